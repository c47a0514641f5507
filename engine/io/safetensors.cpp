#include "engine/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "engine/io/atomic_file.h"

namespace glassbox::io {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

using nlohmann::json;

// The reference implementation refuses headers above 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

const char* format_dtype(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::i32: return "I32";
    case DType::u8: return "U8";
    case DType::boolean: return "BOOL";
  }
  return "?";
}

bool parse_dtype(const std::string& s, DType& out) {
  for (DType t : {DType::f32, DType::f64, DType::i64, DType::i32, DType::u8, DType::boolean})
    if (s == format_dtype(t)) {
      out = t;
      return true;
    }
  return false;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

Entry parse_entry(const std::string& path, const std::string& name, const json& v, uint64_t data_size) {
  const std::string what = "tensor '" + name + "'";
  if (!v.is_object()) fail(path, what + ": header entry is not a JSON object");
  for (const auto& [key, _] : v.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets") fail(path, what + ": unknown field '" + key + "'");
  if (!v.contains("dtype") || !v["dtype"].is_string()) fail(path, what + ": missing or non-string \"dtype\"");
  if (!v.contains("shape") || !v["shape"].is_array()) fail(path, what + ": missing or non-array \"shape\"");
  if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
    fail(path, what + ": \"data_offsets\" must be an array of two offsets");
  Entry e;
  e.name = name;
  const std::string dtype = v["dtype"].get<std::string>();
  if (!parse_dtype(dtype, e.dtype))
    fail(path, what + ": unsupported dtype '" + dtype + "' (supported: F32, F64, I64, I32, U8, BOOL)");
  if (v["shape"].size() > size_t(Dims::kMaxDims))
    fail(path, what + ": rank " + std::to_string(v["shape"].size()) + " exceeds the maximum of " +
                   std::to_string(Dims::kMaxDims));
  uint64_t nbytes = dtype_size(e.dtype);
  for (const json& d : v["shape"]) {
    if (!d.is_number_unsigned()) fail(path, what + ": shape entries must be non-negative integers");
    const uint64_t n = d.get<uint64_t>();
    if (n > uint64_t(INT64_MAX) || __builtin_mul_overflow(nbytes, n, &nbytes))
      fail(path, what + ": shape " + v["shape"].dump() + " is too large");
    e.shape.push_back(int64_t(n));
  }
  for (const json& o : v["data_offsets"])
    if (!o.is_number_unsigned()) fail(path, what + ": data_offsets must be non-negative integers");
  e.begin = v["data_offsets"][0].get<uint64_t>();
  e.end = v["data_offsets"][1].get<uint64_t>();
  if (e.begin > e.end)
    fail(path, what + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] are reversed");
  if (e.end > data_size)
    fail(path, what + ": data_offsets end " + std::to_string(e.end) + " lies beyond the data section of " +
                   std::to_string(data_size) + " bytes");
  if (e.end - e.begin != nbytes)
    fail(path, what + ": data_offsets span " + std::to_string(e.end - e.begin) + " bytes but " + dtype + " " +
                   e.shape.str() + " needs " + std::to_string(nbytes));
  return e;
}

}  // namespace

void save_safetensors(const TensorMap& tensors, const std::string& path, const Metadata& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") throw std::invalid_argument(path + ": '__metadata__' cannot name a tensor");
    if (!t.defined()) throw std::invalid_argument(path + ": tensor '" + name + "' is undefined");
    Tensor h = t.detach().to(Device::cpu()).contiguous();
    const uint64_t nbytes = uint64_t(h.numel()) * dtype_size(h.dtype());
    header[name] = {{"dtype", format_dtype(h.dtype())}, {"shape", std::vector<int64_t>(h.shape().begin(), h.shape().end())},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    host.push_back(h);
  }
  std::string text = header.dump();
  // Padding the header with spaces to a multiple of 8 keeps the data aligned for readers that map it.
  text.append((8 - text.size() % 8) % 8, ' ');
  write_file_atomic(path, [&](const std::string& temp) {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path + ": cannot open " + temp + " for writing: " + std::strerror(errno));
    uint64_t n = text.size();
    char len[8];
    for (int i = 0; i < 8; ++i) len[i] = char((n >> (8 * i)) & 0xff);
    out.write(len, 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const Tensor& h : host) {
      const char* bytes = static_cast<const char*>(h.storage()->data()) + h.offset() * dtype_size(h.dtype());
      out.write(bytes, std::streamsize(uint64_t(h.numel()) * dtype_size(h.dtype())));
    }
    out.close();
    if (!out) throw std::runtime_error(path + ": write failed (disk full?)");
  });
}

SafetensorsFile read_safetensors(const std::string& path, Device device) {
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot read: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  if (file_size < 8) fail(path, "file too short (" + std::to_string(file_size) + " bytes) to hold a safetensors header");
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= uint64_t(len[i]) << (8 * i);
  if (header_size > file_size - 8)
    fail(path, "header length " + std::to_string(header_size) + " exceeds the " + std::to_string(file_size - 8) +
                   " bytes after the length field");
  if (header_size > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(header_size) + " exceeds the 100 MB limit");
  std::string text(header_size, '\0');
  in.read(text.data(), std::streamsize(header_size));
  if (!in) fail(path, "read error in the header");
  const uint64_t data_start = 8 + header_size;
  const uint64_t data_size = file_size - data_start;

  json header;
  try {
    header = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(path, std::string("invalid JSON header: ") + e.what());
  }
  if (!header.is_object()) fail(path, "the JSON header is not an object");

  SafetensorsFile result;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail(path, "\"__metadata__\" is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail(path, "\"__metadata__\" value for '" + k + "' is not a string");
        result.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, name, value, data_size));
  }

  // The byte ranges must tile [0, data_size) exactly: no overlap, no hole, nothing after.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t covered = 0;
  std::string previous = "the start of the data section";
  for (const Entry& e : entries) {
    if (e.begin < covered)
      fail(path, "tensor '" + e.name + "' overlaps " + previous + " (starts at byte " + std::to_string(e.begin) +
                     ", before byte " + std::to_string(covered) + ")");
    if (e.begin > covered)
      fail(path, "bytes " + std::to_string(covered) + ".." + std::to_string(e.begin) + " of the data section belong " +
                     "to no tensor (gap before tensor '" + e.name + "')");
    covered = e.end;
    previous = "tensor '" + e.name + "'";
  }
  if (covered != data_size)
    fail(path, std::to_string(data_size - covered) + " trailing bytes after the last tensor");

  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, {e.dtype, Device::cpu()});
    char* dst = static_cast<char*>(t.storage()->data()) + t.offset() * dtype_size(e.dtype);
    in.seekg(std::streamoff(data_start + e.begin));
    in.read(dst, std::streamsize(e.end - e.begin));
    if (!in) fail(path, "read error in the data of tensor '" + e.name + "'");
    if (e.dtype == DType::boolean) {
      const unsigned char* b = reinterpret_cast<const unsigned char*>(dst);
      for (uint64_t i = 0; i < e.end - e.begin; ++i)
        if (b[i] > 1) fail(path, "tensor '" + e.name + "': BOOL byte " + std::to_string(i) + " is neither 0 nor 1");
    }
    result.tensors.emplace(e.name, device.is_cpu() ? t : t.to(device));
  }
  return result;
}

TensorMap load_safetensors(const std::string& path, Device device) { return read_safetensors(path, device).tensors; }

}  // namespace glassbox::io
