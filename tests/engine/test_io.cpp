#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/io/io.h"
#include "engine/optim/adam.h"

using namespace glassbox;
namespace fs = std::filesystem;

namespace {

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("glassbox_test_io_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char((n >> (8 * i)) & 0xff);
  return s;
}

/// A safetensors file from a header text and data bytes, laid out as Python's writer does.
std::string safetensors_bytes(std::string header, const std::string& data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  return le64(header.size()) + header + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace

TEST_F(IoTest, SafetensorsRoundTripsEveryDtype) {
  io::TensorMap tensors;
  tensors["f32"] = Tensor::from_vector<float>({1.5f, -2.25f, 3e-8f, 7.0f, 0.0f, -0.0f}, {2, 3}, {DType::f32});
  tensors["f64.transposed"] = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}, {DType::f64}).transpose(0, 1);
  tensors["i64"] = Tensor::from_vector<int64_t>({INT64_MIN, -1, INT64_MAX}, {3}, {DType::i64});
  tensors["i32"] = Tensor::from_vector<int32_t>({7, -9}, {1, 2}, {DType::i32});
  tensors["u8"] = Tensor::from_vector<uint8_t>({0, 128, 255}, {3}, {DType::u8});
  tensors["bool"] = Tensor::from_vector<uint8_t>({1, 0, 1, 1}, {2, 2}, {DType::u8}).to(DType::boolean);
  tensors["scalar"] = Tensor::scalar(42, {DType::i64});
  tensors["empty"] = Tensor::zeros({0, 3});
  const io::Metadata meta = {{"model", "protonet"}, {"step", "1200"}};
  io::save_safetensors(tensors, file("a.safetensors"), meta);
  EXPECT_EQ(listing(), std::vector<std::string>{"a.safetensors"});  // no temporary left behind

  io::SafetensorsFile back = io::read_safetensors(file("a.safetensors"));
  EXPECT_EQ(back.metadata, meta);
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const Tensor& r = back.tensors.at(name);
    EXPECT_EQ(r.dtype(), t.dtype()) << name;
    EXPECT_EQ(r.shape(), t.shape()) << name;
    EXPECT_EQ(r.to_vector<double>(), t.to_vector<double>()) << name;
  }
  EXPECT_EQ(back.tensors.at("i64").to_vector<int64_t>()[0], INT64_MIN);
  // The data section starts at a multiple of 8.
  std::ifstream in(file("a.safetensors"), std::ios::binary);
  char len[8];
  in.read(len, 8);
  uint64_t header_len;
  std::memcpy(&header_len, len, 8);
  EXPECT_EQ(header_len % 8, 0u);
}

TEST_F(IoTest, SafetensorsOverwritesAtomically) {
  io::save_safetensors({{"x", Tensor::ones({2})}}, file("c.safetensors"));
  io::save_safetensors({{"y", Tensor::zeros({3})}}, file("c.safetensors"));
  io::TensorMap back = io::load_safetensors(file("c.safetensors"));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back.at("y").shape(), Shape({3}));
  EXPECT_EQ(listing(), std::vector<std::string>{"c.safetensors"});
  // A failed write leaves the previous file intact and no temporary.
  EXPECT_THROW(io::save_safetensors({{"z", Tensor()}}, file("c.safetensors")), std::invalid_argument);
  EXPECT_THROW(io::write_file_atomic(file("c.safetensors"),
                                     [](const std::string& temp) {
                                       write_raw(temp, "partial");
                                       throw std::runtime_error("interrupted");
                                     }),
               std::runtime_error);
  EXPECT_EQ(io::load_safetensors(file("c.safetensors")).at("y").shape(), Shape({3}));
  EXPECT_EQ(listing(), std::vector<std::string>{"c.safetensors"});
}

TEST_F(IoTest, ReadsPythonLayout) {
  // As Python's safetensors writes it: keys in any order, data sorted by dtype
  // alignment (I64 before F32), header padded with spaces, a "format" metadata entry.
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},)"
      R"("count":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[32,35]}})";
  const std::string data = raw<int64_t>({5, -6}) + raw<float>({0.5f, 1.0f, -2.0f, 8.0f}) + std::string("\1\0\1", 3);
  write_raw(file("py.safetensors"), safetensors_bytes(header, data));
  io::SafetensorsFile f = io::read_safetensors(file("py.safetensors"));
  EXPECT_EQ(f.metadata.at("format"), "pt");
  EXPECT_EQ(f.tensors.at("weight").shape(), Shape({2, 2}));
  EXPECT_EQ(f.tensors.at("weight").to_vector<float>(), (std::vector<float>{0.5f, 1.0f, -2.0f, 8.0f}));
  EXPECT_EQ(f.tensors.at("count").to_vector<int64_t>(), (std::vector<int64_t>{5, -6}));
  EXPECT_EQ(f.tensors.at("mask").dtype(), DType::boolean);
  EXPECT_EQ(f.tensors.at("mask").to_vector<double>(), (std::vector<double>{1, 0, 1}));
}

TEST_F(IoTest, RejectsBadSafetensorsFiles) {
  const std::string f4 = raw<float>({1, 2});
  auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
  };
  struct Case {
    std::string label, bytes, fragment;
  };
  const std::vector<Case> cases = {
      {"too_short", "abcd", "file too short (4 bytes)"},
      {"length_beyond_file", le64(1000) + "{}", "header length 1000 exceeds"},
      {"invalid_json", safetensors_bytes("{\"a\": ", ""), "invalid JSON header"},
      {"not_object", safetensors_bytes("[1, 2]", ""), "not an object"},
      {"entry_not_object", safetensors_bytes(R"({"a": 3})", ""), "tensor 'a': header entry is not a JSON object"},
      {"unknown_dtype", safetensors_bytes(R"({"a":)" + entry("BF16", "[2]", "[0,4]") + "}", "abcd"),
       "unsupported dtype 'BF16'"},
      {"missing_shape", safetensors_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", f4), "\"shape\""},
      {"negative_dim", safetensors_bytes(R"({"a":)" + entry("F32", "[-2]", "[0,8]") + "}", f4), "non-negative"},
      {"offsets_beyond_data", safetensors_bytes(R"({"a":)" + entry("F32", "[4]", "[0,16]") + "}", f4),
       "beyond the data section"},
      {"offsets_vs_shape", safetensors_bytes(R"({"a":)" + entry("F32", "[3]", "[0,8]") + "}", f4),
       "span 8 bytes but F32 [3] needs 12"},
      {"reversed_offsets", safetensors_bytes(R"({"a":)" + entry("F32", "[0]", "[8,0]") + "}", f4), "reversed"},
      {"overlap",
       safetensors_bytes(R"({"a":)" + entry("F32", "[2]", "[0,8]") + R"(,"b":)" + entry("F32", "[1]", "[4,8]") + "}",
                         f4),
       "overlaps tensor 'a'"},
      {"gap", safetensors_bytes(R"({"a":)" + entry("F32", "[1]", "[4,8]") + "}", f4), "belong to no tensor"},
      {"trailing_garbage", safetensors_bytes(R"({"a":)" + entry("F32", "[2]", "[0,8]") + "}", f4 + "xyz"),
       "3 trailing bytes"},
      {"bad_bool", safetensors_bytes(R"({"a":)" + entry("BOOL", "[2]", "[0,2]") + "}", "\1\2"), "neither 0 nor 1"},
      {"bad_metadata", safetensors_bytes(R"({"__metadata__":{"k":1}})", ""), "is not a string"},
      {"unknown_field", safetensors_bytes(R"({"a":{"dtype":"U8","shape":[],"data_offsets":[0,1],"x":0}})", "1"),
       "unknown field 'x'"},
  };
  for (const Case& c : cases) {
    const std::string path = file(c.label + ".safetensors");
    write_raw(path, c.bytes);
    try {
      io::read_safetensors(path);
      ADD_FAILURE() << c.label << ": accepted";
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << c.label << ": " << msg;
      EXPECT_NE(msg.find(c.fragment), std::string::npos) << c.label << ": " << msg;
    }
  }
  EXPECT_THROW(io::read_safetensors(file("missing.safetensors")), std::runtime_error);
}

TEST_F(IoTest, OptimizerStateSurvivesACheckpoint) {
  Tensor p = Tensor::from_vector<double>({1, 2, 3}, {3}, {DType::f64}).set_requires_grad();
  optim::Adam opt({p}, {.lr = 0.1});
  p.set_grad(Tensor::from_vector<double>({0.5, -1, 2}, {3}, {DType::f64}));
  opt.step();
  io::save_safetensors(opt.state_dict(), file("opt.safetensors"));
  io::TensorMap back = io::load_safetensors(file("opt.safetensors"));
  for (const auto& [k, v] : opt.state_dict()) EXPECT_EQ(back.at(k).to_vector<double>(), v.to_vector<double>()) << k;
  opt.load_state_dict(back);
}

TEST_F(IoTest, JsonSidecar) {
  nlohmann::json j = {{"model", "cbc"}, {"step", 17}, {"lr", 0.001}, {"shape", {2, 3}}};
  io::write_json_atomic(file("meta.json"), j);
  EXPECT_EQ(io::read_json(file("meta.json")), j);
  EXPECT_EQ(listing(), std::vector<std::string>{"meta.json"});
  write_raw(file("bad.json"), "{\"a\": ");
  try {
    io::read_json(file("bad.json"));
    ADD_FAILURE() << "accepted bad JSON";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(file("bad.json") + ": invalid JSON"), std::string::npos) << e.what();
  }
}

TEST_F(IoTest, PngGrayscaleFromFloats) {
  // Values in [0, 1] scale to 0..255 with rounding; out-of-range clamps, NaN is 0.
  Tensor img = Tensor::from_vector<float>({0.0f, 0.5f, 1.0f, -3.0f, 2.0f, NAN}, {2, 3}, {DType::f32});
  io::write_png(img, file("g.png"));
  Tensor back = io::read_png(file("g.png"));
  EXPECT_EQ(back.dtype(), DType::u8);
  EXPECT_EQ(back.shape(), Shape({1, 2, 3}));
  EXPECT_EQ(back.to_vector<double>(), (std::vector<double>{0, 128, 255, 0, 255, 0}));
  EXPECT_EQ(listing(), std::vector<std::string>{"g.png"});
}

TEST_F(IoTest, PngRgbFromBytes) {
  std::vector<uint8_t> v(3 * 2 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = uint8_t(i * 11);
  Tensor img = Tensor::from_vector(v, {3, 2, 4}, {DType::u8});
  io::write_png(img, file("rgb.png"));
  Tensor back = io::read_png(file("rgb.png"));
  EXPECT_EQ(back.shape(), Shape({3, 2, 4}));
  EXPECT_EQ(back.to_vector<double>(), img.to_vector<double>());
}

TEST_F(IoTest, PngRejectsBadInput) {
  EXPECT_THROW(io::write_png(Tensor::zeros({2, 4, 4}), file("x.png")), std::invalid_argument);
  EXPECT_THROW(io::write_png(Tensor::zeros({4, 4}, {DType::i64}), file("x.png")), std::invalid_argument);
  write_raw(file("not.png"), "this is not a png");
  try {
    io::read_png(file("not.png"));
    ADD_FAILURE() << "read a non-PNG";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(file("not.png") + ": ", 0), 0u) << e.what();
  }
  // A truncated file (valid signature and header, missing image data).
  io::write_png(Tensor::full({32, 32}, 0.5), file("whole.png"));
  std::ifstream in(file("whole.png"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_raw(file("cut.png"), bytes.substr(0, bytes.size() / 2));
  try {
    io::read_png(file("cut.png"));
    ADD_FAILURE() << "read a truncated PNG";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(file("cut.png") + ": ", 0), 0u) << e.what();
  }
  EXPECT_EQ(listing(), (std::vector<std::string>{"cut.png", "not.png", "whole.png"}));
}

TEST_F(IoTest, ImageGridTilesWithPadding) {
  // Three 1x2x2 images, two per row, padding 1 of value 0.5: 2 rows x 2 columns of 3x3 cells + 1.
  std::vector<double> v;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 4; ++i) v.push_back(k * 0.1 + i * 0.01);
  Tensor grid = io::image_grid(Tensor::from_vector(v, {3, 1, 2, 2}, {DType::f64}), 2, 1, 0.5);
  ASSERT_EQ(grid.shape(), Shape({1, 7, 7}));
  std::vector<double> g = grid.to_vector<double>();
  auto at = [&](int y, int x) { return g[size_t(y * 7 + x)]; };
  EXPECT_EQ(at(0, 0), 0.5);
  EXPECT_EQ(at(1, 1), 0.0);
  EXPECT_EQ(at(2, 2), 0.03);
  EXPECT_EQ(at(1, 3), 0.5);  // the column between images
  EXPECT_EQ(at(1, 4), 0.1);
  EXPECT_EQ(at(5, 2), 0.23);
  EXPECT_EQ(at(5, 5), 0.5);  // the missing fourth image is padding
  EXPECT_THROW(io::image_grid(Tensor::zeros({2, 2}), 2), std::invalid_argument);
  io::write_png(grid, file("grid.png"));
  EXPECT_EQ(io::read_png(file("grid.png")).shape(), Shape({1, 7, 7}));
}

TEST_F(IoTest, HeatMapColours) {
  Tensor m = Tensor::from_vector<double>({0, 1, 2, 4}, {2, 2}, {DType::f64});
  Tensor rgb = io::heat_map(m);
  ASSERT_EQ(rgb.shape(), Shape({3, 2, 2}));
  std::vector<float> c = rgb.to_vector<float>();
  auto pixel = [&](int i) { return std::vector<float>{c[size_t(i)], c[size_t(4 + i)], c[size_t(8 + i)]}; };
  EXPECT_EQ(pixel(0), (std::vector<float>{0.267f, 0.005f, 0.329f}));  // minimum: viridis' dark purple
  EXPECT_EQ(pixel(2), (std::vector<float>{0.128f, 0.567f, 0.551f}));  // midpoint
  EXPECT_EQ(pixel(3), (std::vector<float>{0.993f, 0.906f, 0.144f}));  // maximum: yellow

  Tensor signed_m = Tensor::from_vector<double>({-2, 0, 1, 2}, {1, 4}, {DType::f64});
  std::vector<float> d = io::heat_map(signed_m, {.colormap = io::Colormap::diverging}).to_vector<float>();
  auto dpixel = [&](int i) { return std::vector<float>{d[size_t(i)], d[size_t(4 + i)], d[size_t(8 + i)]}; };
  EXPECT_EQ(dpixel(0), (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(dpixel(1), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(dpixel(2), (std::vector<float>{1, 0.5f, 0.5f}));
  EXPECT_EQ(dpixel(3), (std::vector<float>{1, 0, 0}));
  // An explicit range clamps values outside it.
  std::vector<float> e = io::heat_map(m, {.lo = 0, .hi = 1}).to_vector<float>();
  EXPECT_EQ(e[3], 0.993f);
  io::write_png(rgb, file("heat.png"));
  EXPECT_EQ(io::read_png(file("heat.png")).shape(), Shape({3, 2, 2}));
}
