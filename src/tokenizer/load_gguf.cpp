// Tokenizer from GGUF metadata (key names: GGUF specification, "LLM tokenizer" section of
// ggml docs/gguf.md): tokenizer.ggml.{model,pre,tokens,token_type,scores,merges,*_token_id,
// add_bos_token,add_eos_token,add_space_prefix} and tokenizer.chat_template.
#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace rs::tok {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const rs::gguf::File& f) {
  VocabSpec spec;
  spec.source = f.path();
  spec.model = f.get_string("tokenizer.ggml.model");
  spec.tokens = f.get_string_array("tokenizer.ggml.tokens");
  const size_t n = spec.tokens.size();
  auto read_id = [&](const std::string& key) -> int32_t {
    if (!f.has(key)) return -1;
    int64_t v = f.get_int(key);
    if (v < 0 || v >= static_cast<int64_t>(n))
      fail(spec.source, ": metadata key ", key, ": token id ", v, " is out of range [0, ", n, ")");
    return static_cast<int32_t>(v);
  };
  spec.bos_id = read_id("tokenizer.ggml.bos_token_id");
  spec.eos_id = read_id("tokenizer.ggml.eos_token_id");
  spec.eot_id = read_id("tokenizer.ggml.eot_token_id");
  spec.pad_id = read_id("tokenizer.ggml.padding_token_id");
  spec.unk_id = read_id("tokenizer.ggml.unknown_token_id");
  if (f.has("tokenizer.ggml.token_type")) {
    std::vector<int64_t> types = f.get_int_array("tokenizer.ggml.token_type");
    spec.token_types.reserve(types.size());
    for (size_t i = 0; i < types.size(); ++i) {
      if (types[i] < 0 || types[i] > 6)
        fail(spec.source, ": metadata key tokenizer.ggml.token_type: entry ", i, " is ", types[i],
             ", expected a token type 0..6");
      spec.token_types.push_back(static_cast<int32_t>(types[i]));
    }
  }
  spec.pre = f.get_string_or("tokenizer.ggml.pre", "default");
  if (spec.model == "gpt2") {
    spec.merges = f.get_string_array("tokenizer.ggml.merges");
    // Llama 3's tokenizer.json sets ignore_merges (a pre-token that is a whole vocab entry is
    // taken as is); llama.cpp does the same for this pre-tokenizer family.
    spec.ignore_merges = pretokenizer_family(spec.pre) == "llama3";
    // llama.cpp's defaults: BPE vocabularies add no BOS unless they say so, except Llama 3's.
    spec.add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", spec.pre == "llama-bpe" || spec.pre == "llama3");
  } else if (spec.model == "llama") {
    if (f.has("tokenizer.ggml.scores")) {
      std::vector<double> scores = f.get_float_array("tokenizer.ggml.scores");
      spec.scores.assign(scores.begin(), scores.end());
    }
    spec.add_space_prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", true);
    spec.add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", true);
  } else {
    fail(spec.source, ": metadata key tokenizer.ggml.model: unsupported tokenizer model \"",
         spec.model, "\" (supported: gpt2 = byte-level BPE, llama = SentencePiece)");
  }
  spec.add_eos = f.get_bool_or("tokenizer.ggml.add_eos_token", false);
  spec.chat_template = f.get_string_or("tokenizer.chat_template", "");
  return from_spec(std::move(spec));
}

std::unique_ptr<Tokenizer> Tokenizer::from_gguf_path(const std::string& path) {
  auto f = rs::gguf::File::open(path);
  return from_gguf(*f);
}

}  // namespace rs::tok
