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

std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open metrics file");
  std::vector<nlohmann::json> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::parse_error& e) {
      throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": not a JSON object (" + e.what() + ")");
    }
  }
  return out;
}

}  // namespace glassbox
