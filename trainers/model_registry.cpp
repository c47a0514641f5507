#include "trainers/model_registry.h"

#include <map>
#include <stdexcept>

#include "trainers/usage_error.h"

namespace glassbox {
namespace {

// A function-local static, so registrars in other translation units can run in any order.
std::map<std::string, ModelEntry>& registry() {
  static std::map<std::string, ModelEntry> models;
  return models;
}

}  // namespace

void register_model(ModelEntry entry) {
  const std::string name = entry.name;
  if (!registry().emplace(name, std::move(entry)).second) {
    throw std::logic_error("model '" + name + "' is registered twice");
  }
}

std::vector<const ModelEntry*> registered_models() {
  std::vector<const ModelEntry*> out;
  for (const auto& [name, entry] : registry()) out.push_back(&entry);
  return out;
}

const ModelEntry* find_model(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

const ModelEntry& require_model(const std::string& name) {
  if (const ModelEntry* m = find_model(name)) return *m;
  std::string available;
  for (const ModelEntry* m : registered_models()) available += (available.empty() ? "" : ", ") + m->name;
  if (available.empty()) {
    throw UsageError("unknown model '" + name + "': no model is registered in this build yet");
  }
  throw UsageError("unknown model '" + name + "' (available: " + available + "; see `glassbox models`)");
}

}  // namespace glassbox
