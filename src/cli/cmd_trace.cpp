// reasonscope trace: run prompts through the model and save the activations at the chosen hook
// points to a .safetensors file (readable by numpy / torch safetensors loaders).
//
// Layout of the output (documented in --help too). N rows (one per prompt / JSONL line):
//   input_ids    I64 [sum of row lengths]   every row's tokens, concatenated
//   row_offsets  I64 [N + 1]                row r's tokens are input_ids[row_offsets[r]:row_offsets[r+1]]
//   --positions last, or --reduce mean:
//     <hook>     F32 [N, ...]               the hook's shape without batch and position axes
//   --positions all or i,j,...:
//     <hook>     F32 [P, ...]               P = all captured positions of all rows, concatenated
//                                           along the position axis (for attn_scores / pattern:
//                                           [H, P, K], the query axis)
//     row        I64 [P]                    which row each captured position belongs to
//     position   I64 [P]                    its position in that row
//   attn_scores / pattern rows have key axes of different lengths: padded with zeros to the
//   longest row (use row / position to slice).
//   __metadata__: format, model, hooks, positions, reduce, rows, source.
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/checkpoint.h"
#include "cli/shard.h"
#include "cli/cmd_model_common.h"
#include "core/atomic_file.h"
#include "data/jsonl.h"
#include "hooks/hooks.h"
#include "io/safetensors.h"
#include "model/generate.h"
#include "cli/steer_options.h"

namespace rs::cli {
namespace {

struct TraceOptions {
  ModelOptions model;
  std::string prompt;
  bool prompt_given = false;  // --prompt "" is an empty prompt, not a missing option
  std::string data;
  std::string field;
  std::string hooks;
  std::string positions = "last";
  std::string reduce = "keep";
  std::string out;
  bool chat = false;
  std::vector<std::string> ablate;
  int64_t limit = 0;
  bool resume = false;
  ShardOptions shard;
  SteerCliOptions steer;
};

Positions parse_positions(const std::string& s) {
  if (s == "last") return Positions::last();
  if (s == "all") return Positions::all();
  std::vector<int64_t> ids;
  try {
    // 2^20 positions is past any model's context; the bound only keeps a typo from allocating.
    for (int p : parse_int_list("--positions", s, (1 << 20) - 1)) ids.push_back(p);
  } catch (const Error&) {
    fail_as(ExitCode::kUsage, "--positions: expected last, all or a list of positions >= 0 like 0,3,7 or 2-5; got '",
            s, "'");
  }
  return Positions::at(ids);
}

struct Row {
  std::string label;  // "--prompt" or "file.jsonl:12"
  std::vector<int64_t> ids;
};

std::vector<Row> read_rows(const TraceOptions& o, const tok::Tokenizer& t) {
  std::vector<Row> rows;
  if (o.prompt_given) {
    if (o.prompt.empty()) fail_as(ExitCode::kUsage, "--prompt: empty prompt; give some text to trace");
    rows.push_back({"--prompt", encode_prompt(t, o.prompt, o.chat)});
    return rows;
  }
  if (o.field.empty()) fail("--data needs --field: the JSONL field that holds the text");
  data::JsonlReader reader(o.data);
  data::JsonlRow r;
  while (reader.next(r)) {
    const std::string where = str(o.data, ":", r.line);
    if (!r.value.is_object()) fail(where, ": expected a JSON object");
    auto it = r.value.find(o.field);
    if (it == r.value.end()) fail(where, ": field '", o.field, "' is missing");
    if (!it->is_string()) fail(where, ": field '", o.field, "' must be a string, found ", it->type_name());
    const std::string text = it->get<std::string>();
    if (text.empty()) fail(where, ": field '", o.field, "' is empty");
    rows.push_back({where, encode_prompt(t, text, o.chat)});
    if (o.limit > 0 && static_cast<int64_t>(rows.size()) >= o.limit) break;
  }
  if (rows.empty()) fail(o.data, ": no rows");
  return rows;
}

// Pads every axis except `cat_axis` to the largest size among the parts, then concatenates.
at::Tensor pad_and_cat(std::vector<at::Tensor> parts, int64_t cat_axis) {
  const int64_t dims = parts.at(0).dim();
  std::vector<int64_t> mx(static_cast<size_t>(dims), 0);
  for (const auto& p : parts)
    for (int64_t d = 0; d < dims; ++d) mx[d] = std::max(mx[d], p.size(d));
  for (auto& p : parts) {
    for (int64_t d = 0; d < dims; ++d) {
      if (d == cat_axis || p.size(d) == mx[d]) continue;
      auto shape = p.sizes().vec();
      shape[d] = mx[d] - p.size(d);
      p = at::cat({p, at::zeros(shape, p.options())}, d);
    }
  }
  return at::cat(parts, cat_axis);
}

std::vector<uint8_t> i64_bytes(const std::vector<int64_t>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(int64_t));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

void run_trace(const TraceOptions& o) {
  if (o.prompt_given && !o.data.empty()) fail("give either --prompt or --data, not both");
  if (!o.prompt_given && o.data.empty()) fail("give --prompt TEXT or --data FILE.jsonl --field NAME");
  if (o.out.empty()) fail("--out FILE.safetensors is required");
  const Positions pos = parse_positions(o.positions);
  const Reduce reduce = o.reduce == "mean" ? Reduce::Mean : Reduce::Keep;
  LoadedModel lm = load_for_cli(o.model);
  const ModelConfig& cfg = lm.model.config;
  const std::vector<HookId> ids = resolve_hooks(cfg, o.hooks);  // unknown names fail here
  std::vector<Row> rows = classify(ExitCode::kBadInput, [&] { return read_rows(o, *lm.tokenizer); });
  for (const Row& r : rows) {
    check_prompt_fits(cfg, r.ids.size(), r.label);
    if (pos.kind == Positions::Kind::List)
      for (int64_t p : pos.list)
        if (p >= static_cast<int64_t>(r.ids.size()))
          fail(r.label, ": --positions ", p, " is out of range (the prompt has ", r.ids.size(),
               " tokens: 0..", r.ids.size() - 1, ")");
  }

  Hooks hooks(cfg);
  CaptureSpec spec;
  spec.positions = pos;
  spec.reduce = reduce;
  hooks.capture(o.hooks, spec);
  for (const std::string& s : o.ablate) {
    auto [layer, heads] = parse_layer_heads(s);
    hooks.ablate_heads(layer, heads, Ablation::Zero);
  }
  apply_steer_options(o.steer, lm.model, hooks);
  // Run only as far as the deepest requested layer unless a final hook is wanted.
  int64_t last_layer = -1;
  bool needs_final = false, needs_logits = false;
  for (const HookId& id : ids) {
    if (id.point == HookPoint::ln_final_normalized) needs_final = true;
    if (id.point == HookPoint::logits) needs_logits = needs_final = true;
    last_layer = std::max<int64_t>(last_layer, id.layer);
  }
  ForwardOptions fo;
  fo.hooks = &hooks;
  fo.logits = needs_logits ? LogitsMode::All : LogitsMode::None;
  if (!needs_final) fo.stop_after_layer = std::max<int64_t>(last_layer, 0);

  // Rows finished before an interrupt (cli/checkpoint.h): each row's captures, keyed by index.
  const nlohmann::json settings = {
      {"command", "trace"}, {"data", o.prompt_given ? nlohmann::json(o.prompt) : nlohmann::json(file_fingerprint(o.data))},
      {"field", o.field}, {"hooks", o.hooks}, {"positions", o.positions}, {"reduce", o.reduce}, {"chat", o.chat},
      {"ablate", o.ablate}, {"model", model_settings(o.model, lm.path)}, {"steer", files_fingerprint(o.steer.files)},
      {"steer_layer", o.steer.layers}, {"steer_alpha", o.steer.alphas}};
  Sharding shard(o.shard, o.out, o.prompt_given ? "" : o.data);
  Checkpoint ck(shard.checkpoint_dir(checkpoint_dir_for_out_file(o.out)), shard.settings(settings), o.resume, "trace");

  at::NoGradGuard no_grad;
  Progress progress("trace", rows.size());
  std::vector<int64_t> all_ids, offsets{0}, row_of, pos_of;
  std::map<std::string, std::vector<at::Tensor>> calls;  // hook -> one capture per row, from the checkpoint
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!shard.owns(r, rows.size())) continue;
    const auto& ids_r = rows[r].ids;
    all_ids.insert(all_ids.end(), ids_r.begin(), ids_r.end());
    offsets.push_back(static_cast<int64_t>(all_ids.size()));
    const std::string key = std::to_string(r);
    if (!ck.find(key)) {
      ck.check_interrupt(rows.size());
      hooks.clear_captures();
      at::Tensor t = at::tensor(ids_r, at::kLong).view({1, -1}).to(lm.model.device());
      forward(lm.model, t, at::Tensor(), fo);
      std::map<std::string, at::Tensor> caps;
      for (const HookId& id : ids) {
        const auto& c = hooks.get_calls(id.name());
        if (c.size() != 1) fail("trace: internal error: ", id.name(), " captured ", c.size(), " times for one row");
        caps[id.name()] = c[0].select(0, 0);
      }
      ck.add(key, {{"tokens", ids_r.size()}}, caps);
    }
    for (auto& [name, x] : ck.tensors(key)) calls[name].push_back(x);
    if (reduce == Reduce::Keep && pos.kind != Positions::Kind::Last) {
      const int64_t n = pos.kind == Positions::Kind::All ? static_cast<int64_t>(ids_r.size())
                                                         : static_cast<int64_t>(pos.list.size());
      for (int64_t i = 0; i < n; ++i) {
        row_of.push_back(static_cast<int64_t>(r));
        pos_of.push_back(pos.kind == Positions::Kind::All ? i : pos.list[i]);
      }
    }
    progress.tick();
  }
  ck.check_interrupt(rows.size());
  progress.done();
  if (shard.finish(ck.dir(), rows.size())) return;

  SafetensorsWriter w;
  const bool per_row = reduce == Reduce::Mean || pos.kind == Positions::Kind::Last;
  for (const HookId& id : ids) {
    const std::string name = id.name();
    std::vector<at::Tensor> parts;
    for (const at::Tensor& c : calls[name]) parts.push_back(c);
    if (parts.size() != rows.size())
      fail("trace: internal error: ", name, " captured ", parts.size(), " times for ", rows.size(), " rows");
    at::Tensor out;
    if (per_row) {
      for (auto& p : parts) p = p.unsqueeze(0);
      out = pad_and_cat(parts, 0);
    } else {
      out = pad_and_cat(parts, hook_point_pos_axis(id.point) - 1);
    }
    out = out.contiguous();
    w.add(name, StDtype::F32, out.sizes().vec(), out.data_ptr<float>());
  }
  const int64_t n_ids = static_cast<int64_t>(all_ids.size());
  w.add_raw("input_ids", StDtype::I64, {n_ids}, i64_bytes(all_ids));
  w.add_raw("row_offsets", StDtype::I64, {static_cast<int64_t>(offsets.size())}, i64_bytes(offsets));
  if (!per_row) {
    w.add_raw("row", StDtype::I64, {static_cast<int64_t>(row_of.size())}, i64_bytes(row_of));
    w.add_raw("position", StDtype::I64, {static_cast<int64_t>(pos_of.size())}, i64_bytes(pos_of));
  }
  nlohmann::json hook_names = nlohmann::json::array();
  for (const HookId& id : ids) hook_names.push_back(id.name());
  w.set_metadata("format", "reasonscope-trace-1");
  w.set_metadata("model", lm.path);
  w.set_metadata("hooks", hook_names.dump());
  w.set_metadata("positions", o.positions);
  w.set_metadata("reduce", o.reduce);
  w.set_metadata("rows", std::to_string(rows.size()));
  w.set_metadata("source", o.data.empty() ? "--prompt" : o.data + " field " + o.field);
  w.write(o.out);
  ck.remove();
  log_info(str("wrote ", ids.size(), " hook tensors for ", rows.size(), " rows to ", o.out));
}

Registrar trace_command{
    "trace", "Save activations at hook points for prompts to a .safetensors file",
    [](CLI::App& sub) {
      auto o = std::make_shared<TraceOptions>();
      add_model_options(sub, o->model);
      CLI::Option* prompt = sub.add_option("--prompt,-p", o->prompt, "One prompt to trace");
      sub.add_option("--data", o->data, "JSONL file: one prompt per line");
      sub.add_option("--field", o->field, "JSONL field holding the text (with --data)");
      sub.add_option("--hooks", o->hooks,
                     "Hook names or patterns, comma-separated ('*' matches anything), e.g.\n"
                     "blocks.*.hook_resid_post,blocks.5.attn.hook_pattern (see `info --hooks`)")
          ->required();
      sub.add_option("--positions", o->positions, "last, all, or positions like 0,3,7 or 2-5")
          ->capture_default_str();
      sub.add_option("--reduce", o->reduce, "keep, or mean over the selected positions")
          ->check(CLI::IsMember({"keep", "mean"}))
          ->capture_default_str();
      sub.add_option("--out,-o", o->out, "Output .safetensors file (written atomically)")->required();
      sub.add_flag("--chat", o->chat, "Wrap each prompt in the model's chat template");
      sub.add_option("--ablate-head", o->ablate, "Zero-ablate heads while tracing: LAYER:HEAD[,HEAD...]");
      sub.add_option("--limit", o->limit, "Only the first N rows of --data");
      sub.add_flag("--resume", o->resume, "Continue an interrupted run from the rows finished in OUT.resume/");
      add_steer_options(sub, o->steer);
      add_shard_option(sub, o->shard);
      sub.footer(
          "Output tensors (F32 activations, I64 indices):\n"
          "  input_ids [sum of row lengths], row_offsets [N+1]\n"
          "  last / mean:  <hook> [N, ...]  (hook shape without batch and position axes)\n"
          "  all / list:   <hook> [P, ...] concatenated over rows along the position axis\n"
          "                (pattern / attn_scores: [H, P, K], K zero-padded to the longest row),\n"
          "                row [P] and position [P] say where each captured position came from\n"
          "Example: reasonscope trace -p \"Max is a wumpus.\" --hooks 'blocks.*.hook_resid_post' "
          "--positions all --out acts.safetensors");
      sub.callback([o, prompt] {
        o->prompt_given = prompt->count() > 0;
        run_trace(*o);
      });
    }};

}  // namespace
}  // namespace rs::cli
