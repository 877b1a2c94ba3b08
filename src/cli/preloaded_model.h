// Models a warm engine loaded before it forks (`engine-server --preload`, warm_engine_server.cpp).
// The first command in a worker that loads the same GGUF file with the same options takes the
// preloaded model and tokenizer instead of dequantising the file again (SmolLM2-135M in f32:
// ~0.5 CPU-s a load). The fork gives the worker a copy-on-write view of the server's memory, so a
// command that edits weights in place changes only its own process. Each model is taken at most
// once per process: a second load of the same file in one command gets tensors of its own, as it
// would without a preload. Nothing is preloaded in any other process (the CLI, the Python module).
#pragma once
#include <memory>
#include <string>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace rs::cli {

// Loads a .gguf file with `opts` and keeps it, with its tokenizer, for take_preloaded. Throws
// rs::Error for anything else (a directory) or a file that does not load.
void preload_model(const std::string& path, const LoadOptions& opts);

// Moves the preloaded model and tokenizer into `model` / `tokenizer` when one was preloaded from
// this file (by any path to it) with these options and the file is still the one it was (device,
// inode, size and modification time); false otherwise (then load as usual).
bool take_preloaded(const std::string& path, const LoadOptions& opts, Model& model,
                    std::unique_ptr<tok::Tokenizer>& tokenizer);

bool any_model_preloaded();

}  // namespace rs::cli
