#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "tests/support/temp_dir.h"
#include "trainers/metrics_writer.h"
#include "trainers/progress_bar.h"

namespace glassbox {
namespace {

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(ProgressBar, PlainLinesEveryNBatchesWhenNotATerminal) {
  std::ostringstream out;
  {
    ProgressBar bar("epoch 1", 10, out, false, 4);
    for (int i = 1; i <= 10; ++i) bar.update(i, 1.0 / i);
  }
  const std::string s = out.str();
  EXPECT_EQ(count_lines(s), 3) << s;  // batches 4, 8 and the last
  EXPECT_EQ(s.find('\r'), std::string::npos);
  EXPECT_NE(s.find("epoch 1 ["), std::string::npos) << s;
  EXPECT_NE(s.find("4/10 loss 0.2500"), std::string::npos) << s;
  EXPECT_NE(s.find("10/10 loss 0.1000"), std::string::npos) << s;
  EXPECT_NE(s.substr(0, s.find("10/10")).find(" it/s ETA "), std::string::npos) << "the time left while running: " << s;
  EXPECT_NE(s.substr(s.find("10/10")).find(" it/s in "), std::string::npos) << "the time taken at the end: " << s;
}

TEST(ProgressBar, WorkWithoutALossLeavesTheFieldOut) {
  std::ostringstream out;
  {
    ProgressBar bar("eval test", 2, out, false, 1);
    bar.update(1);
    bar.update(2);
  }
  const std::string s = out.str();
  EXPECT_NE(s.find("2/2 "), std::string::npos) << s;
  EXPECT_EQ(s.find("loss"), std::string::npos) << s;
}

TEST(ProgressBar, OneRedrawnLineOnATerminal) {
  std::ostringstream out;
  {
    ProgressBar bar("train", 3, out, true);
    bar.update(1, 2.0);
    bar.update(3, 1.0);
  }
  const std::string s = out.str();
  EXPECT_EQ(count_lines(s), 1) << s;
  EXPECT_EQ(s.rfind("\r\033[K", 0), 0u);
  EXPECT_NE(s.find("3/3 loss 1.0000"), std::string::npos) << s;
}

TEST(ProgressBar, FormatsDurations) {
  EXPECT_EQ(ProgressBar::format_duration(0), "00:00");
  EXPECT_EQ(ProgressBar::format_duration(75.4), "01:15");
  EXPECT_EQ(ProgressBar::format_duration(3723), "1:02:03");
  EXPECT_EQ(ProgressBar::format_duration(-1), "--:--");
}

TEST(MetricsWriter, OneFlushedObjectPerLineAppendedOnReopen) {
  glassbox::testing::TempDir dir;
  const auto path = dir / "metrics.jsonl";
  {
    MetricsWriter w(path);
    w.write({{"step", 1}, {"loss", 0.5}});
    // Flushed: readable before the writer closes.
    EXPECT_EQ(read_metrics(path).size(), 1u);
    w.write({{"epoch", 1}, {"val_accuracy", 0.8}});
    EXPECT_THROW(w.write(nlohmann::json::array({1, 2})), std::invalid_argument);
  }
  MetricsWriter(path).write({{"step", 2}});
  auto records = read_metrics(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]["loss"], 0.5);
  EXPECT_EQ(records[1]["epoch"], 1);
  EXPECT_EQ(records[2]["step"], 2);
}

TEST(MetricsWriter, MalformedLineNamesFileAndLine) {
  glassbox::testing::TempDir dir;
  auto path = dir.write("metrics.jsonl", "{\"a\": 1}\n{\"b\": \n");
  try {
    read_metrics(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl:2: not a JSON object"), std::string::npos) << e.what();
  }
}

TEST(MetricsWriter, RewindKeepsTheRecordsUpToAStep) {
  glassbox::testing::TempDir dir;
  const std::string lines =
      "{\"step\":1,\"loss\":3}\n{\"step\":2,\"loss\":2}\n{\"epoch\":1,\"step\":2}\n{\"final\":true}\n"
      "{\"step\":3,\"loss\":1}\n{\"step\":4,\"lo";
  // Step 2: the epoch record of step 2 stays; the closing record after it, step 3 and the
  // line the process died writing go.
  auto path = dir.write("metrics.jsonl", lines);
  std::vector<nlohmann::json> seen;
  rewind_metrics(path, 2, [&](const nlohmann::json& r) { seen.push_back(r); });
  ASSERT_EQ(read_metrics(path).size(), 3u);
  EXPECT_EQ(read_metrics(path).back(), nlohmann::json({{"epoch", 1}, {"step", 2}}));
  EXPECT_EQ(seen, read_metrics(path));
  // Records without a step stay when a kept step follows them.
  path = dir.write("metrics.jsonl", "{\"note\":1}\n{\"step\":1}\n{\"step\":2}\n");
  rewind_metrics(path, 1);
  EXPECT_EQ(read_metrics(path), std::vector<nlohmann::json>({{{"note", 1}}, {{"step", 1}}}));
  // Nothing past the step: the file is left as it is; step 0 empties it; no file is no error.
  rewind_metrics(path, 5);
  EXPECT_EQ(read_metrics(path).size(), 2u);
  rewind_metrics(path, 0);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  EXPECT_NO_THROW(rewind_metrics(dir / "none.jsonl", 3));
  EXPECT_FALSE(std::filesystem::exists(dir / "none.jsonl"));
}

TEST(MetricsWriter, RewindRejectsAMalformedLineBeforeTheEnd) {
  glassbox::testing::TempDir dir;
  auto path = dir.write("metrics.jsonl", "{\"step\":1}\n{\"step\": \n{\"step\":2}\n");
  try {
    rewind_metrics(path, 1);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl:2: not a JSON object"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace glassbox
