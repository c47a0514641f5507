#pragma once
// Source code from a Program (program.h): a self-contained Python module, or a C++
// file, that computes what the argmax model computes (Friedman et al. 2023, section
// 3.4, with the model-faithful select_closest).
#include <string>

#include "models/transformer_programs/program.h"

namespace glassbox::models {

/// A Python 3 module with run(tokens) -> predicted labels (tokens as strings, "<s>" first).
/// `source` names where the program came from (a run folder) in its docstring.
std::string emit_python(const Program& program, const std::string& source);

/// A C++17 file with the same functions and a main() that reads one input per line
/// (space-separated tokens) and prints the predicted labels.
std::string emit_cpp(const Program& program, const std::string& source);

/// Lines of a source text (the "program length" the paper's Table 4 reports).
int64_t count_lines(const std::string& text);

}  // namespace glassbox::models
