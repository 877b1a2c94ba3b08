// The one layer convention of every command, option and output (README, "Layer convention"):
// layer l is the block index, 0..n_layer-1, and stands for the output of block l, the residual
// stream TransformerLens calls blocks.{l}.hook_resid_post (Hugging Face's hidden_states[l + 1]).
// The token embeddings are not a block: where a command can read them they are named `embed`
// (hook_embed, Hugging Face's hidden_states[0]). `all` means every block, 0..n_layer-1, in every
// command; `embed,all` adds the embeddings.
//
// Version 1 (no stamp in a file) is everything written before this convention: `cluster` then
// counted the embeddings as layer 0 and block l as l + 1; every other output already used the
// block index.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace rs {

inline constexpr int kEmbedLayer = -1;  // `embed` in a parsed layer list (sorts first)
inline constexpr const char* kLayerConvention = "block";
inline constexpr int kLayerConventionVersion = 2;

// "A", "A-B" (inclusive) and comma lists of them -> the integers, in the order written. Every
// value must be in 0..max_value; anything else (a negative number, a backwards range, an empty
// item, text) throws rs::Error with ExitCode::kUsage naming `option` and what was found.
std::vector<int> parse_int_list(const std::string& option, const std::string& text, int max_value);

// A layer list as every --layers option takes it: "all" (0..n_layer-1), "A", "A-B", "1,4,9",
// and with allow_embed also "embed" (kEmbedLayer), in any comma combination ("embed,all",
// "embed,0-3"). Returns ascending block indices without repeats, kEmbedLayer first. Throws
// rs::Error (ExitCode::kUsage) naming `option` for a negative or out-of-range layer, `embed`
// where the command cannot read the embeddings, or a list that names no layer.
std::vector<int> parse_layers(const std::string& option, const std::string& spec, int n_layer,
                              bool allow_embed = false);

// "embed" or the block index as text (messages, report labels).
std::string layer_name(int layer);
// The residual stream a layer names: "hook_embed" or "blocks.{l}.hook_resid_post".
std::string resid_hook(int layer);

}  // namespace rs
