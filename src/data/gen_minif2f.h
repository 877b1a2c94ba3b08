// `minif2f`: a balanced sample of Lean 3 proofs of miniF2F theorems, the formal setting of the
// spectral paper (Noel, "Geometry of Reason", arXiv 2601.00791): label 1 are human proofs,
// label 0 proofs of the same statements by Llama-3.1-8B-Instruct that Lean rejected. The 300
// proofs of its dev split (100 valid, 200 invalid; tests/data/fixtures/minif2f-lean/dev.jsonl,
// provenance and licence in tests/data/fixtures/README.md) are built into the binary, so the
// audit needs no file beside it. Fields: id, text, label (the spectral schema).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "data/gen_common.h"

namespace rs::data {

// The embedded dev split, byte-identical to the fixture (generated at configure time).
std::string_view minif2f_dev_jsonl();

// n / 2 valid and n - n / 2 invalid proofs drawn by `seed`, in the file's order. Errors name the
// limit: at most 100 valid and 200 invalid (n <= 200 keeps it balanced).
std::vector<GenRow> make_minif2f(uint64_t n, uint64_t seed);

}  // namespace rs::data
