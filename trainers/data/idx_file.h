#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al.,
// http://yann.lecun.com/exdb/mnist/): a 4-byte magic 0x00 0x00 <type> <ndims>,
// ndims big-endian uint32 sizes, then the values in row-major order.
// Files may be raw or gzip-compressed; zlib reads both.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace glassbox::data {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;  // row-major, product(dims) bytes
};

/// Reads an unsigned-byte IDX file with `expected_ndims` dims (magic 2048 + ndims:
/// 2049 for labels, 2051 for images). Throws std::runtime_error naming the file and
/// the problem for a wrong magic or type byte, a size that disagrees with the file's
/// length, or truncated / corrupt gzip data.
IdxArray read_idx(const std::filesystem::path& path, int expected_ndims);

/// The bytes of a raw or gzip-compressed file (at most `max_bytes` once decompressed).
std::vector<uint8_t> read_maybe_gzipped(const std::filesystem::path& path, size_t max_bytes);

}  // namespace glassbox::data
