#pragma once
// Whole-file writes that never leave a half-written file behind: the content goes
// to a temporary file in the same directory, is flushed to disk, then renamed over
// the destination (rename is atomic within a file system).
#include <functional>
#include <string>
#include <string_view>

namespace glassbox::io {

/// Calls write(temp_path) to produce the file, then renames it to `path`. If write
/// throws, the temporary is removed and the exception propagates.
void write_file_atomic(const std::string& path, const std::function<void(const std::string& temp_path)>& write);
/// Writes `bytes` to `path` atomically.
void write_bytes_atomic(const std::string& path, std::string_view bytes);

}  // namespace glassbox::io
