"""Reads the F32 tensors of a glassbox checkpoint (safetensors: an 8-byte little-endian header
length, a JSON header naming each tensor's dtype, shape and byte range, then the data) into numpy
arrays, for the Python scripts that check glassbox's numbers (no safetensors package needed)."""
import json
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
