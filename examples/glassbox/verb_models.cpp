// glassbox models: what this build can train.
#include <iostream>

#include "examples/glassbox/verb_parsing.h"
#include "trainers/model_registry.h"

namespace glassbox::cli {

int models_verb(const Args& args) {
  VerbSpec spec("models", "", "Lists the models this build can train.");
  ParsedVerb parsed = parse_verb(spec, args);
  if (parsed.help) {
    print_verb_help(spec);
    return 0;
  }
  const std::vector<const ModelEntry*> models = registered_models();
  if (models.empty()) {
    std::cout << "No model is available in this build yet.\n";
    return 0;
  }
  for (const ModelEntry* m : models)
    std::cout << m->name << std::string(m->name.size() < 24 ? 24 - m->name.size() : 1, ' ') << m->summary << "\n";
  return 0;
}

}  // namespace glassbox::cli
