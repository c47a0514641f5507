#include "trainers/data/idx_file.h"

#include <zlib.h>

#include <stdexcept>
#include <string>

namespace glassbox::data {
namespace {

// The largest file glassbox will decompress: far above MNIST-sized sets, and a
// guard against a corrupt or hostile gzip stream expanding without bound.
constexpr size_t kMaxIdxBytes = size_t{1} << 32;
constexpr uint8_t kUnsignedByteType = 0x08;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& problem) {
  throw std::runtime_error(path.filename().string() + ": " + problem + " (" + path.string() + ")");
}

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

std::vector<uint8_t> read_maybe_gzipped(const std::filesystem::path& path, size_t max_bytes) {
  if (!std::filesystem::exists(path)) fail(path, "file not found");
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) fail(path, "cannot open file");
  std::vector<uint8_t> bytes;
  constexpr unsigned kChunk = 1u << 20;
  for (;;) {
    size_t old_size = bytes.size();
    bytes.resize(old_size + kChunk);
    int got = gzread(file, bytes.data() + old_size, kChunk);
    if (got < 0) {
      int code = 0;
      std::string message = gzerror(file, &code);
      gzclose(file);
      fail(path, "corrupt gzip data (" + message + ")");
    }
    bytes.resize(old_size + static_cast<size_t>(got));
    if (got == 0) break;
    if (bytes.size() > max_bytes) {
      gzclose(file);
      fail(path, "larger than " + std::to_string(max_bytes) + " bytes once decompressed");
    }
  }
  // A gzip stream cut short reads as a clean end of data; zlib only reports it here.
  int code = Z_OK;
  std::string message = gzerror(file, &code);
  int close_code = gzclose(file);
  if (code != Z_OK && code != Z_STREAM_END) fail(path, "truncated or corrupt gzip data (" + message + ")");
  if (close_code == Z_BUF_ERROR) fail(path, "truncated gzip data (the stream ends early)");
  if (close_code != Z_OK) fail(path, "corrupt gzip data (zlib error " + std::to_string(close_code) + ")");
  return bytes;
}

IdxArray read_idx(const std::filesystem::path& path, int expected_ndims) {
  std::vector<uint8_t> bytes = read_maybe_gzipped(path, kMaxIdxBytes);
  if (bytes.size() < 4) fail(path, "too short for an IDX header (" + std::to_string(bytes.size()) + " bytes)");
  const uint32_t expected_magic = 0x800u + static_cast<uint32_t>(expected_ndims);
  const uint32_t magic = big_endian_u32(bytes.data());
  if (bytes[0] != 0 || bytes[1] != 0 || bytes[3] != expected_ndims) {
    fail(path, "expected magic " + std::to_string(expected_magic) + ", found " + std::to_string(magic) +
                   " (not an IDX file with " + std::to_string(expected_ndims) + " dims)");
  }
  if (bytes[2] != kUnsignedByteType) {
    fail(path, "unsupported IDX type byte " + std::to_string(bytes[2]) + " (only unsigned bytes, type 8, are read)");
  }
  const size_t header = 4 + 4 * static_cast<size_t>(expected_ndims);
  if (bytes.size() < header) {
    fail(path, "truncated header: " + std::to_string(bytes.size()) + " bytes, the dims need " + std::to_string(header));
  }
  IdxArray out;
  size_t expected_values = 1;
  for (int d = 0; d < expected_ndims; ++d) {
    uint32_t n = big_endian_u32(bytes.data() + 4 + 4 * d);
    if (n == 0) fail(path, "dim " + std::to_string(d) + " has size 0");
    out.dims.push_back(n);
    expected_values *= n;
    if (expected_values > kMaxIdxBytes)
      fail(path, "dims describe more than " + std::to_string(kMaxIdxBytes) + " values");
  }
  const size_t payload = bytes.size() - header;
  if (payload != expected_values) {
    std::string dims;
    for (int64_t n : out.dims) {
      if (!dims.empty()) dims += 'x';
      dims += std::to_string(n);
    }
    fail(path, "dims " + dims + " need " + std::to_string(expected_values) + " bytes of data, the file has " +
                   std::to_string(payload) + (payload < expected_values ? " (truncated)" : " (trailing bytes)"));
  }
  out.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

}  // namespace glassbox::data
