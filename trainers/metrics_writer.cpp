#include "trainers/metrics_writer.h"

#include <stdexcept>
#include <string>

namespace glassbox {

MetricsWriter::MetricsWriter(const std::filesystem::path& path) : path_(path), out_(path, std::ios::app) {
  if (!out_) throw std::runtime_error(path.string() + ": cannot open metrics file for writing");
}

void MetricsWriter::write(const nlohmann::json& record) {
  if (!record.is_object()) throw std::invalid_argument("metrics record must be a JSON object, got " + record.dump());
  out_ << record.dump() << '\n' << std::flush;
  if (!out_) throw std::runtime_error(path_.string() + ": write failed");
}

namespace {

nlohmann::json parse_record(const std::filesystem::path& path, int number, const std::string& line) {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": not a JSON object (" + e.what() + ")");
  }
}

}  // namespace

std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open metrics file");
  std::vector<nlohmann::json> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty()) out.push_back(parse_record(path, number, line));
  }
  return out;
}

void rewind_metrics(const std::filesystem::path& path, int64_t step,
                    const std::function<void(const nlohmann::json&)>& on_kept) {
  if (!std::filesystem::exists(path)) return;
  std::vector<nlohmann::json> pending;  // records without a step, kept if a step <= `step` follows
  uintmax_t cut = 0;                    // the file's length up to the last record kept
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path.string() + ": cannot open metrics file");
    std::string line;
    uintmax_t offset = 0;
    for (int number = 1; std::getline(in, line); ++number) {
      // A last line without its newline was cut short when the process died: it is not a record.
      if (in.eof()) break;
      offset += line.size() + 1;
      if (line.empty()) continue;
      nlohmann::json record = parse_record(path, number, line);
      const auto it = record.find("step");
      if (it == record.end() || !it->is_number()) {
        pending.push_back(std::move(record));
        continue;
      }
      if (it->get<double>() > double(step)) break;
      if (on_kept) {
        for (const nlohmann::json& p : pending) on_kept(p);
        on_kept(record);
      }
      pending.clear();
      cut = offset;
    }
  }
  // Truncation is one system call: the file is never left half-cut.
  if (std::filesystem::file_size(path) != cut) std::filesystem::resize_file(path, cut);
}

}  // namespace glassbox
