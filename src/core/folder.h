// Folder helpers. Torch-free: the shard unit test (tests/cli/test_shard.cpp) links them without
// libtorch.
#pragma once
#include <string>

namespace rs {

// Removes `dir`'s files, then `dir`: a folder the tool made itself, such as a checkpoint
// (cli/checkpoint.h) or a shard's rows (cli/shard.h). Only for folders of plain files: a
// subfolder stays, and so does `dir`. Best effort and silent: the folder need not exist.
void remove_flat_folder(const std::string& dir);

// Whether `path` names a directory (following links); false when it does not exist.
bool is_directory(const std::string& path);

}  // namespace rs
