// reasonscope._C: the engine for Python (README "Python"). The TransformerLens-style surface
// (names, filters, padding, return values) lives in python/reasonscope/_api.py; this file only
// moves tensors and calls across, so that every computation is the one the CLI runs.
//
// Tensors cross as torch tensors with no copy: the caster of torch/csrc/utils/pybind.h wraps the
// at::Tensor itself (THPVariable_Wrap), and the module links the libtorch of the Python's torch.
// Forward passes run with the GIL released; a Python hook re-acquires it for its call only.
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/utils/pybind.h>

#include <pybind11/stl.h>

#include <c10/util/Exception.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cmd_model_common.h"
#include "cli/command.h"
#include "cli/edit_options.h"
#include "cli/steer_options.h"
#include "core/error.h"
#include "core/paths.h"
#include "hooks/hooks.h"
#include "methods/lens/edit_file.h"
#include "model/generate.h"
#include "model/model.h"
#include "model/score.h"
#include "tokenizer/tokenizer.h"

namespace py = pybind11;

namespace {

struct PyModel {
  std::string path;
  rs::Model model;
  std::shared_ptr<rs::tok::Tokenizer> tok;
  std::string weights;  // "exact" or "native"
};

// (exact hook name, fn(activation, hook) -> tensor or None, hook object given to fn)
using PyHook = std::tuple<std::string, py::object, py::object>;

// Adds the Python callbacks as custom interventions. The objects are borrowed: the caller's
// argument list keeps them alive for the whole call, and the Hooks object dies before it returns.
void add_py_hooks(rs::Hooks& h, const std::vector<PyHook>& hooks) {
  for (const auto& [name, fn, hook_obj] : hooks) {
    PyObject* f = fn.ptr();
    PyObject* obj = hook_obj.ptr();
    h.custom(name, [f, obj, name = name](const at::Tensor& x, const rs::HookContext&) -> at::Tensor {
      py::gil_scoped_acquire gil;
      py::object r = py::reinterpret_borrow<py::object>(f)(x, py::handle(obj));
      if (r.is_none()) return x;
      if (!THPVariable_Check(r.ptr()))
        throw rs::Error(rs::str("hook at ", name, " returned ", std::string(py::str(py::type::handle_of(r))),
                                ", expected a torch.Tensor or None"));
      return THPVariable_Unpack(r.ptr());
    });
  }
}

py::dict config_dict(const PyModel& pm) {
  const rs::ModelConfig& c = pm.model.config;
  py::dict d;
  d["n_layers"] = c.n_layer;
  d["d_model"] = c.d_model;
  d["n_heads"] = c.n_head;
  d["n_key_value_heads"] = c.n_head_kv;
  d["d_head"] = c.d_head;
  d["d_mlp"] = c.d_ff;
  d["d_vocab"] = c.n_vocab;
  d["n_ctx"] = c.n_ctx_train;
  d["architecture"] = c.arch;
  d["rms_eps"] = c.rms_eps;
  d["rope_theta"] = c.rope.theta;
  d["tied_embeddings"] = c.tied_embeddings;
  d["summary"] = c.summary();
  return d;
}

std::shared_ptr<PyModel> load(const std::string& name, const std::string& dtype, const std::string& device,
                              const std::string& weights, int threads) {
  auto pm = std::make_shared<PyModel>();
  rs::cli::ModelOptions o;
  o.model = name;
  o.device = device;
  o.dtype = dtype;
  if (weights != "exact" && weights != "native")
    rs::fail_as(rs::ExitCode::kUsage, "weights: expected 'exact' or 'native', got '", weights, "'");
  pm->weights = weights;
  o.weights = weights == "native" ? "native" : "dequant";
  o.threads = threads;
  py::gil_scoped_release nogil;
  pm->path = rs::classify(rs::ExitCode::kModel, [&] { return rs::cli::resolve_model_path(o); });
  if (threads > 0) rs::set_threads(threads);  // 0: leave torch's own setting alone
  rs::LoadOptions lo;
  lo.device = rs::cli::parse_device(o.device);
  lo.dtype = rs::cli::parse_dtype(o.dtype);
  lo.weights = rs::cli::parse_weights(o, pm->path, false);
  rs::classify(rs::ExitCode::kModel, [&] {
    pm->model = rs::load_model(pm->path, lo);
    pm->tok = rs::tok::Tokenizer::from_model_path(pm->path);
  });
  return pm;
}

// One forward: logits "all" | "last" | "none" (returns the residual after the last block run).
py::tuple run(PyModel& pm, const at::Tensor& tokens, const std::optional<at::Tensor>& mask,
              const std::vector<std::string>& capture, const std::vector<PyHook>& hooks,
              const std::string& logits, int64_t stop_after_layer) {
  if (tokens.dim() != 2 || tokens.scalar_type() != at::kLong)
    throw rs::Error(rs::str("tokens: expected an int64 tensor [batch, pos], got ", tokens.dim(), " dims of ",
                            c10::toString(tokens.scalar_type())));
  rs::Hooks h(pm.model.config);
  rs::CaptureSpec spec;
  spec.to_cpu = false;  // stay where the model runs, as TransformerLens's cache does
  for (const auto& name : capture) h.capture(name, spec);
  add_py_hooks(h, hooks);
  rs::ForwardOptions fo;
  fo.logits = logits == "all" ? rs::LogitsMode::All : logits == "last" ? rs::LogitsMode::Last : rs::LogitsMode::None;
  fo.hooks = &h;
  fo.stop_after_layer = stop_after_layer;
  at::Tensor out;
  {
    py::gil_scoped_release nogil;
    at::NoGradGuard no_grad;
    const at::Device dev = pm.model.device();
    const at::Tensor m = mask.has_value() ? mask->to(dev, at::kLong) : at::Tensor();
    out = rs::forward(pm.model, tokens.to(dev), m, fo);
  }
  py::dict cache;
  for (const auto& [name, calls] : h.captures()) {
    // One call: the captured tensor itself (no concatenation copy), so it shares storage with
    // what a hook at that point saw.
    cache[py::str(name)] = calls.size() == 1 ? calls[0] : h.get(name);
  }
  return py::make_tuple(out, cache);
}

// Steering as the CLI's --steer/--steer-layer/--steer-alpha: (file, layer or -1, alpha) triples.
void add_steer(const PyModel& pm, rs::Hooks& h, const std::vector<std::tuple<std::string, int64_t, double>>& steer) {
  for (const auto& [file, layer, alpha] : steer) {
    rs::cli::SteerCliOptions so;
    so.files = {file};
    if (layer >= 0) so.layers = {layer};
    so.alphas = {alpha};
    rs::cli::apply_steer_options(so, pm.model, h);
  }
}

// Applies an edit file for the duration of one call and puts the exact old weights back.
struct ScopedEdit {
  PyModel& pm;
  std::vector<std::pair<at::Tensor, at::Tensor>> saved;  // (weight, copy before the edit)
  ScopedEdit(PyModel& p, const std::string& path) : pm(p) {
    if (path.empty()) return;
    rs::classify(rs::ExitCode::kBadInput, [&] {
      const rs::lens::WeightEdit e = rs::lens::load_edit(path);
      for (const auto& [name, delta] : e.deltas) {
        at::Tensor w = pm.model.weight(name);
        saved.emplace_back(w, w.clone());
      }
      rs::lens::apply_edit(pm.model, e, path);
    });
  }
  ~ScopedEdit() {
    at::NoGradGuard g;
    for (auto& [w, old] : saved) w.copy_(old);
  }
};

py::list generate(PyModel& pm, const std::vector<std::vector<int64_t>>& prompts, int64_t max_new_tokens,
                  double temperature, int64_t top_k, double top_p, uint64_t seed,
                  const std::vector<std::string>& stop, bool stop_at_eos, bool use_cache,
                  const std::vector<PyHook>& hooks,
                  const std::vector<std::tuple<std::string, int64_t, double>>& steer, const std::string& edit) {
  rs::Hooks h(pm.model.config);
  add_steer(pm, h, steer);
  add_py_hooks(h, hooks);
  rs::GenerateOptions go;
  go.max_new_tokens = max_new_tokens;
  go.sampling.temperature = temperature;
  go.sampling.top_k = top_k;
  go.sampling.top_p = top_p;
  go.sampling.seed = seed;
  go.sampling.validate();
  go.stop_strings = stop;
  go.stop_at_eos = stop_at_eos;
  go.use_cache = use_cache;
  go.hooks = &h;
  std::vector<rs::Generation> out;
  {
    py::gil_scoped_release nogil;
    at::NoGradGuard no_grad;
    ScopedEdit scoped(pm, edit);
    out = rs::generate(pm.model, pm.tok.get(), prompts, go);
  }
  py::list res;
  for (const auto& g : out) {
    py::dict d;
    d["prompt_tokens"] = g.prompt;
    d["tokens"] = g.tokens;
    d["text"] = py::bytes(g.text).attr("decode")("utf-8", "replace");
    d["stop_reason"] = g.stop_reason;
    res.append(d);
  }
  return res;
}

// Per-token log-probabilities of whole texts, as `reasonscope score` without a prefix field
// (rs::perplexity: windows for texts longer than the context, each token predicted once).
py::list score(PyModel& pm, const std::vector<std::vector<int64_t>>& seqs, const std::vector<PyHook>& hooks) {
  rs::Hooks h(pm.model.config);
  add_py_hooks(h, hooks);
  std::vector<rs::PerplexityResult> out;
  {
    py::gil_scoped_release nogil;
    at::NoGradGuard no_grad;
    rs::PerplexityOptions po;
    po.hooks = hooks.empty() ? nullptr : &h;
    for (const auto& s : seqs) out.push_back(rs::perplexity(pm.model, s, po));
  }
  py::list res;
  for (const auto& p : out) {
    py::dict d;
    d["token_logprobs"] = p.token_logprobs;
    d["sum_logprob"] = -p.nll_sum;
    d["mean_logprob"] = -p.mean_nll();
    d["perplexity"] = p.perplexity();
    res.append(d);
  }
  return res;
}

// A CLI command in this process (the analyses of reasonscope/analyses.py), GIL released. The
// dataset commands install SIGINT/SIGTERM handlers (core/interrupt.h); Python's are put back
// afterwards so that Ctrl-C in the notebook behaves as before.
int run_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s{"reasonscope"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, nullptr, &old_int);
  sigaction(SIGTERM, nullptr, &old_term);
  struct Restore {
    struct sigaction *i, *t;
    ~Restore() {
      sigaction(SIGINT, i, nullptr);
      sigaction(SIGTERM, t, nullptr);
    }
  } restore{&old_int, &old_term};
  py::gil_scoped_release nogil;
  return rs::cli::run(static_cast<int>(argv_s.size()), argv.data(), /*rethrow=*/true);
}

// run_cli with the command's stdout (fd 1) sent to `path`: `edit creme` prints its summary there.
int run_cli_capture(const std::vector<std::string>& args, const std::string& path) {
  std::fflush(stdout);
  const int saved = dup(1);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (saved < 0 || fd < 0) throw rs::Error(rs::str("cannot redirect stdout to ", path));
  dup2(fd, 1);
  close(fd);
  struct Back {
    int saved;
    ~Back() {
      std::fflush(stdout);
      dup2(saved, 1);
      close(saved);
    }
  } back{saved};
  return run_cli(args);
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "reasonscope's engine (C++/libtorch); use the reasonscope package, not this module.";

  // Never destroyed: a Python object must not be released after the interpreter is gone.
  static auto* error = new py::exception<rs::Error>(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const rs::Error& e) {
      // Same message as the CLI prints after "error: "; the exit status it would return as .exit_code.
      py::object exc = py::reinterpret_borrow<py::object>(error->ptr())(e.what());
      exc.attr("exit_code") = static_cast<int>(e.code());
      PyErr_SetObject(error->ptr(), exc.ptr());
    } catch (const c10::Error& e) {
      // libtorch's message without its C++ backtrace, as the CLI prints it.
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });

  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def_readonly("path", &PyModel::path)
      .def_readonly("weights", &PyModel::weights)
      .def_property_readonly("cfg", &config_dict)
      .def_property_readonly("device", [](const PyModel& pm) { return pm.model.device().str(); })
      .def_property_readonly("dtype", [](const PyModel& pm) { return std::string(c10::toString(pm.model.dtype())); })
      .def_property_readonly("hook_names", [](const PyModel& pm) { return rs::all_hook_names(pm.model.config); })
      .def("resolve_hooks",
           [](const PyModel& pm, const std::string& pattern) {
             std::vector<std::string> names;
             for (const auto& id : rs::resolve_hooks(pm.model.config, pattern)) names.push_back(id.name());
             return names;
           })
      .def("encode",
           [](const PyModel& pm, const std::string& text, bool add_special) {
             const auto ids = pm.tok->encode(text, add_special, /*parse_special=*/true);
             return std::vector<int64_t>(ids.begin(), ids.end());
           })
      .def("decode",
           [](const PyModel& pm, const std::vector<int64_t>& ids) {
             std::vector<int32_t> v;
             for (int64_t id : ids) {
               if (id < 0 || id >= pm.tok->n_vocab())
                 throw rs::Error(rs::str("token id ", id, " is outside the vocabulary (0..", pm.tok->n_vocab() - 1, ")"));
               v.push_back(static_cast<int32_t>(id));
             }
             return py::bytes(pm.tok->decode(v)).attr("decode")("utf-8", "replace");
           })
      .def("token_text",
           [](const PyModel& pm, int64_t id) {
             if (id < 0 || id >= pm.tok->n_vocab())
               throw rs::Error(rs::str("token id ", id, " is outside the vocabulary (0..", pm.tok->n_vocab() - 1, ")"));
             return py::bytes(pm.tok->token_text(static_cast<int32_t>(id))).attr("decode")("utf-8", "replace");
           })
      .def_property_readonly("bos_id", [](const PyModel& pm) { return pm.tok->bos_id(); })
      .def_property_readonly("eos_id", [](const PyModel& pm) { return pm.tok->eos_id(); })
      .def_property_readonly("pad_id", [](const PyModel& pm) { return pm.tok->pad_id(); })
      .def_property_readonly("add_bos", [](const PyModel& pm) { return pm.tok->add_bos(); })
      .def("run", &run)
      .def("generate", &generate)
      .def("score", &score)
      .def("weight", [](const PyModel& pm, const std::string& name) { return pm.model.weight(name); });

  m.def("load", &load);
  m.def("run_cli", &run_cli);
  m.def("run_cli_capture", &run_cli_capture);
  m.def("resolve_model", [](const std::string& name) { return rs::resolve_model(name); });
}
