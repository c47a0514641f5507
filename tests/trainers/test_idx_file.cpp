#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "tests/support/temp_dir.h"
#include "trainers/data/idx_file.h"
#include "trainers/data/image_dataset.h"
#include "trainers/usage_error.h"

namespace glassbox::data {
namespace {

using glassbox::testing::TempDir;

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// An IDX file of unsigned bytes: magic 0x0000 08 <ndims>, big-endian dims, then values.
std::string idx_bytes(const std::vector<uint32_t>& dims, const std::string& values, uint8_t type = 0x08) {
  std::string out = std::string("\0\0", 2) + static_cast<char>(type) + static_cast<char>(dims.size());
  for (uint32_t d : dims) out += be32(d);
  return out + values;
}

std::string gzip(const std::string& raw) {
  uLongf size = compressBound(raw.size()) + 64;
  std::string out(size, '\0');
  z_stream s{};
  // windowBits 15 + 16 asks zlib for a gzip wrapper rather than a zlib one.
  deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  s.avail_in = raw.size();
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = size;
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

std::string pixels(size_t n) {
  std::string v(n, '\0');
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<char>(i * 37 % 256);
  return v;
}

std::string error_of(const std::filesystem::path& path, int ndims) {
  try {
    read_idx(path, ndims);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(IdxFile, ReadsRawAndGzipFilesAlike) {
  TempDir dir;
  const std::string bytes = idx_bytes({3, 2, 4}, pixels(24));
  for (const auto& path : {dir.write("a-idx3-ubyte", bytes), dir.write("a-idx3-ubyte.gz", gzip(bytes))}) {
    IdxArray a = read_idx(path, 3);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 4}));
    ASSERT_EQ(a.values.size(), 24u);
    EXPECT_EQ(a.values[5], 5 * 37 % 256);
    EXPECT_EQ(a.values[23], 23 * 37 % 256);
  }
}

TEST(IdxFile, WrongMagicNamesFileAndBothNumbers) {
  TempDir dir;
  auto path = dir.write("train-images-idx3-ubyte.gz", gzip(idx_bytes({4}, pixels(4))));
  const std::string message = error_of(path, 3);
  EXPECT_NE(message.find("train-images-idx3-ubyte.gz: expected magic 2051, found 2049"), std::string::npos) << message;
}

TEST(IdxFile, RejectsNonZeroLeadingBytes) {
  TempDir dir;
  std::string bytes = idx_bytes({2}, pixels(2));
  bytes[0] = 0x1f;
  EXPECT_NE(error_of(dir.write("x", bytes), 1).find("expected magic 2049"), std::string::npos);
}

TEST(IdxFile, RejectsUnsupportedTypeByte) {
  TempDir dir;
  auto path = dir.write("floats-idx1", idx_bytes({2}, pixels(8), 0x0D));
  const std::string message = error_of(path, 1);
  EXPECT_NE(message.find("floats-idx1: unsupported IDX type byte 13"), std::string::npos) << message;
}

TEST(IdxFile, RejectsSizeThatDisagreesWithFileLength) {
  TempDir dir;
  std::string m = error_of(dir.write("short", idx_bytes({2, 3, 3}, pixels(17))), 3);
  EXPECT_NE(m.find("short: dims 2x3x3 need 18 bytes of data, the file has 17 (truncated)"), std::string::npos) << m;
  m = error_of(dir.write("long", idx_bytes({2, 3, 3}, pixels(19))), 3);
  EXPECT_NE(m.find("(trailing bytes)"), std::string::npos) << m;
  m = error_of(dir.write("header", idx_bytes({2, 3, 3}, "").substr(0, 9)), 3);
  EXPECT_NE(m.find("header: truncated header"), std::string::npos) << m;
  m = error_of(dir.write("tiny", "\0\0"), 3);
  EXPECT_NE(m.find("tiny: too short for an IDX header"), std::string::npos) << m;
  m = error_of(dir.write("zero", idx_bytes({0, 3, 3}, "")), 3);
  EXPECT_NE(m.find("zero: dim 0 has size 0"), std::string::npos) << m;
}

TEST(IdxFile, RejectsTruncatedGzip) {
  TempDir dir;
  const std::string gz = gzip(idx_bytes({50, 28, 28}, pixels(50 * 28 * 28)));
  auto path = dir.write("cut.gz", gz.substr(0, gz.size() / 2));
  const std::string m = error_of(path, 3);
  EXPECT_NE(m.find("cut.gz: truncated"), std::string::npos) << m;
  // Cut inside the 8-byte trailer (CRC and length): the data is whole but unverified.
  path = dir.write("trailer.gz", gz.substr(0, gz.size() - 3));
  EXPECT_NE(error_of(path, 3).find("trailer.gz: truncated"), std::string::npos) << error_of(path, 3);
}

TEST(IdxFile, RejectsCorruptGzip) {
  TempDir dir;
  std::string gz = gzip(idx_bytes({50, 28, 28}, pixels(50 * 28 * 28)));
  for (size_t i = gz.size() / 3; i < gz.size() / 3 + 40; ++i) gz[i] = static_cast<char>(~gz[i]);
  const std::string m = error_of(dir.write("bad.gz", gz), 3);
  EXPECT_NE(m.find("bad.gz: "), std::string::npos) << m;
  EXPECT_NE(m.find("gzip"), std::string::npos) << m;
}

TEST(IdxFile, MissingFileIsNamed) {
  TempDir dir;
  EXPECT_NE(error_of(dir / "nope-idx1-ubyte", 1).find("nope-idx1-ubyte: file not found"), std::string::npos);
}

class IdxDatasetTest : public ::testing::Test {
 protected:
  // A 4-image, 2x3 "data set" in the layout the loaders expect.
  void write_set(const std::string& prefix, const std::string& labels, bool gz) {
    auto maybe_gz = [&](const std::string& s) { return gz ? gzip(s) : s; };
    const std::string ext = gz ? ".gz" : "";
    dir.write(prefix + "-images-idx3-ubyte" + ext, maybe_gz(idx_bytes({4, 2, 3}, pixels(24))));
    dir.write(prefix + "-labels-idx1-ubyte" + ext, maybe_gz(idx_bytes({static_cast<uint32_t>(labels.size())}, labels)));
  }
  TempDir dir;
};

TEST_F(IdxDatasetTest, LoadsImagesScaledToUnitRangeWithLabels) {
  write_set("train", std::string("\3\0\11\1", 4), true);
  write_set("t10k", std::string("\1\2\3\4", 4), false);
  ImageDataset train = load_dataset("mnist", Split::train, dir.path());
  EXPECT_EQ(train.name, "mnist/train");
  EXPECT_EQ(train.images.shape(), (Shape{4, 1, 2, 3}));
  EXPECT_EQ(train.images.dtype(), DType::f32);
  EXPECT_EQ(train.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 9, 1}));
  EXPECT_FLOAT_EQ(train.images.to_vector<float>()[7], (7 * 37 % 256) / 255.0f);
  EXPECT_EQ(train.num_classes, 10);
  ImageDataset test = load_dataset("fashion-mnist", Split::test, dir.path());
  EXPECT_EQ(test.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(test.class_names[9], "Ankle boot");
}

TEST_F(IdxDatasetTest, GatherAndSubsetCopyTheChosenSamples) {
  write_set("train", std::string("\3\0\11\1", 4), false);
  ImageDataset train = load_dataset("mnist", Split::train, dir.path());
  Batch b = train.gather({2, 0});
  EXPECT_EQ(b.labels.to_vector<int64_t>(), (std::vector<int64_t>{9, 3}));
  EXPECT_FLOAT_EQ(b.images.to_vector<float>()[0], (12 * 37 % 256) / 255.0f);
  EXPECT_THROW(train.gather({4}), std::out_of_range);
  ImageDataset sub = train.subset({1, 3}, "/val");
  EXPECT_EQ(sub.name, "mnist/train/val");
  EXPECT_EQ(sub.size(), 2);
}

TEST(ImageDatasetPartition, EqualsTwoSubsetsWithoutCopying) {
  // 7 samples of 2x3 pixels whose values name their sample and pixel.
  std::vector<float> pixels;
  for (int i = 0; i < 7; ++i)
    for (int p = 0; p < 6; ++p) pixels.push_back(float(10 * i + p));
  ImageDataset full{"set", Tensor::from_vector(pixels, {7, 1, 2, 3}),
                    Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0}, {7}), 3, {"a", "b", "c"}};
  const std::vector<int64_t> train = {5, 0, 3, 6}, val = {4, 1};  // sample 2 in neither (a train_subset cut)
  ImageDataset want_train = full.subset(train, "[train]"), want_val = full.subset(val, "[val]");
  const void* storage = full.images.view().data;
  auto [got_train, got_val] = full.partition(train, "[train]", val, "[val]");
  EXPECT_EQ(got_train.name, "set[train]");
  EXPECT_EQ(got_val.name, "set[val]");
  EXPECT_EQ(got_train.images.to_vector<float>(), want_train.images.to_vector<float>());
  EXPECT_EQ(got_train.labels.to_vector<int64_t>(), want_train.labels.to_vector<int64_t>());
  EXPECT_EQ(got_val.images.to_vector<float>(), want_val.images.to_vector<float>());
  EXPECT_EQ(got_val.labels.to_vector<int64_t>(), want_val.labels.to_vector<int64_t>());
  EXPECT_EQ(got_train.images.view().data, storage) << "the training rows were copied";
  EXPECT_THROW(full.partition({0, 1}, "", {1}, ""), std::invalid_argument);
  EXPECT_THROW(full.partition({0, 9}, "", {}, ""), std::out_of_range);
}

TEST_F(IdxDatasetTest, RejectsLabelCountMismatchAndOutOfRangeLabels) {
  write_set("train", std::string("\3\0\11", 3), false);
  try {
    load_dataset("mnist", Split::train, dir.path());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("train-labels-idx1-ubyte: 3 labels, but train-images-idx3-ubyte holds 4"),
              std::string::npos)
        << e.what();
  }
  write_set("t10k", std::string("\3\0\12\1", 4), false);
  try {
    load_dataset("mnist", Split::test, dir.path());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("label 10 at index 2"), std::string::npos) << e.what();
  }
}

TEST_F(IdxDatasetTest, MissingDataSetSaysHowToGetIt) {
  try {
    load_dataset("mnist", Split::train, dir / "empty");
    FAIL() << "expected an error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("./run data mnist"), std::string::npos) << e.what();
  }
  try {
    load_dataset("fashion-mnist", Split::test, dir / "empty");
    FAIL() << "expected an error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset-fashion-mnist"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_dataset("cifar", Split::test, dir.path()), UsageError);
}

TEST(FashionMnist, InstalledTestSplitLoads) {
  if (!std::filesystem::exists(default_data_dir("fashion-mnist") / "t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  ImageDataset test = load_dataset("fashion-mnist", Split::test);
  EXPECT_EQ(test.images.shape(), (Shape{10000, 1, 28, 28}));
  std::vector<int64_t> counts(10, 0);
  for (int64_t y : test.labels.to_vector<int64_t>()) ++counts[y];
  for (int64_t c : counts) EXPECT_EQ(c, 1000);  // the test split is balanced
}

TEST(Mnist, FetchedCacheLoads) {
  if (!std::filesystem::exists(default_data_dir("mnist") / "t10k-images-idx3-ubyte")) {
    GTEST_SKIP() << "MNIST is not fetched (./run data mnist)";
  }
  ImageDataset test = load_dataset("mnist", Split::test);
  EXPECT_EQ(test.images.shape(), (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(test.labels.to_vector<int64_t>()[0], 7);  // the first MNIST test digit is a 7
}

}  // namespace
}  // namespace glassbox::data
