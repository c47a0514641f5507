"""Reads the F32 tensors of a glassbox checkpoint (safetensors: an 8-byte little-endian header
length, a JSON header naming each tensor's dtype, shape and byte range, then the data) into numpy
arrays, for the Python scripts that check glassbox's numbers, and writes such files (no safetensors package needed)."""
import json
import os
import struct

import numpy as np


def load_f32(path):
    """{name: float32 array} for every F32 tensor of the file at `path`."""
    with open(path, "rb") as f:
        data = f.read()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_size])
    base = 8 + header_size
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[base + begin:base + end], dtype=np.float32).reshape(entry["shape"])
    return tensors


def save_f32(path, tensors, metadata=None):
    """Writes {name: array} as F32 tensors (and string metadata) to a safetensors file at `path`,
    through a temporary file renamed into place."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(tensors[name])), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    os.replace(path + ".tmp", path)
