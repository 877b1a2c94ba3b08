// Removing a folder the tool itself made, such as a checkpoint (cli/checkpoint.h) or a shard's
// rows (cli/shard.h). Torch-free: the shard unit test links it without libtorch.
#pragma once
#include <string>

namespace rs {

// Removes `dir`'s files, then `dir`. Only for folders of plain files: a subfolder stays, and so
// does `dir`. Best effort and silent: the folder need not exist.
void remove_flat_folder(const std::string& dir);

}  // namespace rs
