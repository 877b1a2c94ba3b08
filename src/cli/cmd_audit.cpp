// reasonscope audit: the README's main job (issue 14). Runs the five analyses briefly on built-in
// generated data and puts the findings in one report: DIR/<section>/ as each command writes it,
// DIR/summary.json (each section's summary under its name, plus the verdict) and DIR/report.html
// (a plain-language verdict at the top, each section's charts below).
//
// Thin: the sections (audit_sections.cpp) run the commands as child processes
// (audit_steps.h); this file resumes finished sections, handles interrupts and writes the page.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/audit_report.h"
#include "cli/audit_sections.h"
#include "cli/audit_steps.h"
#include "cli/command.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/layers.h"
#include "core/log.h"
#include "data/outputs.h"
#include "report/chart.h"
#include "report/report.h"
#include "report/table.h"

namespace rs::cli {
namespace {

using nlohmann::json;
using namespace rs::cli::audit;

struct AuditOptions {
  std::string model, device = "cpu", dtype = "f32", budget = "quick", out, only;
  uint64_t seed = 0;
  int threads = 0;
  int max_charts = 6;
};

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

json read_json_or_null(const std::string& p) {
  if (!exists(p)) return nullptr;
  try {
    return json::parse(read_file(p));
  } catch (const json::exception&) {
    return nullptr;
  }
}

void remove_tree(const std::string& p) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = ::opendir(p.c_str())) {
      std::vector<std::string> names;
      while (dirent* e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
      ::closedir(d);
      for (const auto& n : names) remove_tree(p + "/" + n);
    }
    ::rmdir(p.c_str());
  } else {
    ::unlink(p.c_str());
  }
}

std::string fmt_seconds(double s) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << s << " s";
  return o.str();
}

struct SectionState {
  const Section* sec = nullptr;
  std::string status;  // ok | skipped | error
  std::string reason;
  bool resumed = false;
  double seconds = 0;
  json summary = json::object();  // stays empty for a section that failed (read with value())
  Finding finding;
  double cpu_seconds() const {  // the section's commands' CPU time (with --threads 1: about their idle wall time)
    double t = 0;
    for (const auto& st : summary.value("audit_steps", json::array())) t += st.value("cpu_seconds", 0.0);
    return t;
  }
};

// Model facts for the sections (layers, heads, context length), from `info --json`.
json model_info(const Context& c) {
  const std::string path = c.out + "/model_info.json";
  json prev = read_json_or_null(path);
  if (prev.is_object() && prev.value("audit", json()) == c.stamp) return prev;
  std::vector<std::string> args = {"info", "--json"};
  const auto ma = c.model_args();
  args.insert(args.end(), ma.begin(), ma.end());
  const StepResult r = run_self(args, c.out);
  if (r.interrupted) throw Interrupted{};
  if (r.exit_code != 0) fail("audit: the model does not load: ", r.err_tail);
  json info;
  try {
    info = json::parse(r.out);
  } catch (const json::exception&) {
    fail("audit: `info --json` printed no JSON");
  }
  info["audit"] = c.stamp;
  data::write_summary_json(path, info);
  return info;
}

SectionState run_section(const Section& sec, Context& c) {
  SectionState st;
  st.sec = &sec;
  const std::string dir = c.out + "/" + sec.name, sum_path = dir + "/summary.json", run_path = dir + "/audit_run.json";
  json prev = read_json_or_null(sum_path);
  if (prev.is_object() && prev.value("audit", json()) == c.stamp) {
    st.resumed = true;
    st.summary = prev;
    st.status = prev.value("status", "ok");
    st.reason = prev.value("reason", "");
    st.seconds = prev.value("audit_seconds", 0.0);
    log_info(str("audit ", sec.name, ": finished earlier (same model, budget and seed), kept"));
    return st;
  }
  // A folder from another model, budget or seed is started afresh; one from an interrupted run
  // of this same audit keeps its finished steps.
  const json run = read_json_or_null(run_path);
  if (exists(dir) && run != c.stamp) {
    if (!run.is_object() && exists(dir + "/summary.json") && !read_json_or_null(dir + "/summary.json").contains("audit"))
      fail(dir, ": exists and was not written by `reasonscope audit`; pass another --out");
    remove_tree(dir);
  }
  make_dirs(dir);
  write_file_atomic(run_path, c.stamp.dump(2) + "\n");
  log_info(str("audit ", sec.name, ": ", sec.title));
  const auto t0 = std::chrono::steady_clock::now();
  c.steps = json::array();
  json summary;
  try {
    summary = sec.run(c, dir);
    st.status = "ok";
  } catch (const Skip& s) {
    st.status = "skipped";
    st.reason = s.reason;
    summary = {{"command", "audit " + sec.name}, {"status", "skipped"}, {"reason", s.reason}};
    log_info(str("audit ", sec.name, ": skipped: ", s.reason));
  } catch (const StepFailed& f) {
    // The one failure that is about the model rather than the run: prompts longer than its
    // context, which every command reports with its own exit status (core/error.h).
    if (f.exit_code == static_cast<int>(ExitCode::kTooLong)) {
      st.status = "skipped";
      st.reason = str("its prompts are longer than this model's context of ", c.info.value("context_length", 0), " tokens");
      summary = {{"command", "audit " + sec.name}, {"status", "skipped"}, {"reason", st.reason},
                 {"detail", str(f.step, ": ", f.message)}};
      log_info(str("audit ", sec.name, ": skipped: ", st.reason));
    } else {
      st.status = "error";
      st.reason = str(f.step, ": ", f.message);
      log_warn(str("audit ", sec.name, ": ", st.reason, " (log: ", dir, "/logs/", f.step, ".log)"));
      return st;
    }
  } catch (const Error& e) {
    st.status = "error";
    st.reason = e.what();
    log_warn(str("audit ", sec.name, ": ", st.reason));
    return st;
  }
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary["status"] = st.status;
  summary["audit"] = c.stamp;
  summary["audit_seconds"] = st.seconds;
  summary["audit_steps"] = c.steps;
  st.summary = summary;
  if (!sec.writes_own_report || st.status != "ok") {
    report::Report r(sec.title);
    r.meta("model", c.model).meta("budget", c.budget).meta("seed", std::to_string(c.seed));
    if (st.status != "ok") r.verdict("Skipped: " + st.reason, report::Tone::Warning);
    else
      for (const auto& rel : sec.reports(summary)) {
        const auto figs = figures_of(dir + "/" + rel);
        if (figs.empty()) continue;
        r.section(rel.substr(0, rel.find('/')));
        for (const auto& f : figs) r.chart(f.svg, f.caption);
      }
    r.write(dir + "/report.html");
  }
  data::write_summary_json(sum_path, summary);  // last: its presence marks the section finished
  log_info(str("audit ", sec.name, ": ", st.status, " in ", fmt_seconds(st.seconds)));
  return st;
}

// ---------------------------------------------------------------- verdict and page
struct Verdict {
  std::vector<std::string> lines;
  report::Tone tone = report::Tone::Neutral;
};

Verdict make_verdict(const std::vector<SectionState>& ss, const Context& c) {
  Verdict v;
  std::vector<std::string> strong, weak, mixed, other;
  for (const auto& s : ss) {
    if (s.status != "ok") {
      other.push_back(str(s.sec->name, " ", s.status, " (", s.reason, ")"));
      continue;
    }
    const auto& f = s.finding;
    (f.strength == "strong" ? strong : f.strength == "weak" ? weak : mixed).push_back(f.headline);
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "; " : "") + v[i];
    return s;
  };
  v.lines.push_back(strong.empty() ? "Strong: nothing in this audit stands out on this model."
                                   : "Strong: " + list(strong) + ".");
  if (!weak.empty()) v.lines.push_back("Weak: " + list(weak) + ".");
  if (!mixed.empty()) v.lines.push_back("Mixed or descriptive: " + list(mixed) + ".");
  if (!other.empty()) v.lines.push_back("Not run: " + list(other) + ".");
  v.lines.push_back(
      c.quick() ? "How sure: the quick budget uses small generated samples (tens of items per section), so the 95% bootstrap "
                  "intervals span roughly +-10 to +-15 points and only large effects can show; `--budget full` runs "
                  "3-5x larger samples for tighter intervals. Strong means the interval (or the fold spread) clears the baseline."
                : "How sure: the full budget uses a few hundred generated items per section; the 95% bootstrap intervals "
                  "are about +-5 to +-8 points. Strong means the interval (or the fold spread) clears the baseline.");
  v.tone = strong.empty() ? report::Tone::Warning : (weak.empty() ? report::Tone::Positive : report::Tone::Neutral);
  return v;
}

void write_page(const std::vector<SectionState>& ss, const Context& c, const Verdict& v, double seconds, int max_charts) {
  const std::string file = c.model.substr(c.model.find_last_of('/') + 1);
  report::Report r("Reasoning audit: " + file);
  r.meta("model", c.model)
      .meta("architecture", str(c.info.value("architecture", std::string("?")), ", ", c.info.value("n_layer", 0), " layers, d_model ",
                                c.info.value("d_model", 0), ", ", c.info.value("n_head", 0), " heads"))
      .meta("budget", c.budget)
      .meta("seed", std::to_string(c.seed))
      .meta("time", fmt_seconds(seconds) + " (this run; resumed sections count their first run's time in summary.json)");
  std::string text;
  for (const auto& l : v.lines) text += (text.empty() ? "" : "\n\n") + l;
  r.verdict(text, v.tone);

  r.section("At a glance");
  report::BarChart bars;
  bars.title = "Each analysis beside its baseline";
  bars.y_label = "score (0-1)";
  std::vector<double> m, lo, hi, b;
  for (const auto& s : ss)
    if (s.status == "ok" && s.finding.chart) {
      bars.categories.push_back(s.finding.measure);
      m.push_back(s.finding.method);
      lo.push_back(s.finding.method_lo);
      hi.push_back(s.finding.method_hi);
      b.push_back(s.finding.baseline);
    }
  if (!bars.categories.empty()) {
    bars.add("method", m, lo, hi);
    bars.add("baseline", b);
    bars.y_include_lo = 0.0;
    bars.y_include_hi = 1.0;
    r.chart(bars,
            "Method vs baseline per section: spectral nested-CV accuracy (bar: +-1 SD over folds) vs the better of "
            "length / log-prob; best QK head vs the model's answer (95% CI); steered vs unsteered held-out accuracy "
            "(95% CI); CREME correction share after vs before; best-layer ARI with task vs shuffled labels.");
  }
  report::Table t({"section", "status", "strength", "time", "finding"});
  t.caption = "Sections";
  for (const auto& s : ss)
    t.row({s.sec->name, s.status + (s.resumed ? " (resumed)" : ""), s.status == "ok" ? s.finding.strength : std::string("-"),
           fmt_seconds(s.seconds) + (s.summary.value("audit_steps", json::array()).empty() ? std::string()
                                                                                            : " (CPU " + fmt_seconds(s.cpu_seconds()) + ")"),
           s.status == "ok" ? s.finding.headline : s.reason});
  r.table(t);

  for (const auto& s : ss) {
    r.section(s.sec->title);
    if (s.status != "ok") {
      r.text((s.status == "skipped" ? "Skipped: " : "Failed: ") + s.reason +
             (s.summary.contains("detail") ? " (" + s.summary.value("detail", std::string()) + ")" : std::string()));
      continue;
    }
    r.text(s.finding.text);
    for (const auto& rel : s.sec->reports(s.summary)) {
      const auto figs = figures_of(c.out + "/" + s.sec->name + "/" + rel);
      if (figs.empty()) continue;
      const size_t n = std::min<size_t>(figs.size(), static_cast<size_t>(max_charts));
      for (size_t i = 0; i < n; ++i) r.chart(figs[i].svg, figs[i].caption);
      r.text(str("From ", s.sec->name, "/", rel, n < figs.size() ? str(" (", figs.size() - n, " more charts there)") : "", "."));
    }
  }
  r.write(c.out + "/report.html");
}

void run_audit(const AuditOptions& o) {
  if (o.budget != "quick" && o.budget != "full") fail("--budget: expected quick or full, got '", o.budget, "'");
  std::vector<const Section*> todo;
  for (const auto& s : sections())
    if (o.only.empty() || ("," + o.only + ",").find("," + s.name + ",") != std::string::npos) todo.push_back(&s);
  if (todo.empty()) fail("--only ", o.only, ": no such section (spectral, qk, steer, twohop, cluster)");
  ModelOptions mo;
  mo.model = o.model;
  Context c;
  c.model = resolve_model_path(mo);
  c.device = o.device;
  c.dtype = o.dtype;
  c.out = o.out;
  c.budget = o.budget;
  c.seed = o.seed;
  c.threads = o.threads;
  // The layer convention is part of the stamp: sections finished before it (cluster numbered the
  // embeddings 0) are recomputed rather than reused with the old numbering. So is what the
  // sections run (2: spectral on miniF2F proofs + cot-pairs, cluster trains from scratch too).
  c.stamp = {{"model", c.model}, {"budget", c.budget}, {"seed", c.seed}, {"dtype", c.dtype}, {"device", c.device},
             {"layer_convention_version", kLayerConventionVersion}, {"sections_version", 2}};
  install_interrupt_handler();
  make_dirs(c.out);
  clean_partial_files(c.out);  // leftovers of a run killed outright (SIGKILL)
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<SectionState> ss;
  try {
    log_info(str("audit: ", c.model, ", budget ", c.budget, ", seed ", c.seed, " -> ", c.out));
    c.info = model_info(c);
    for (const Section* s : todo) {
      ss.push_back(run_section(*s, c));
      if (interrupted()) throw Interrupted{};
    }
  } catch (const Interrupted&) {
    std::fprintf(stderr, "audit: interrupted; finished sections and steps are kept (whole files only); rerun the same "
                         "command to resume\n");
    std::fflush(nullptr);
    std::exit(stop_status());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& s : ss)
    if (s.status == "ok") {
      try {
        s.finding = s.sec->judge(s.summary);
      } catch (const std::exception& e) {
        s.status = "error";
        s.reason = str("summary.json lacks what the verdict needs (", e.what(), ")");
      }
    }
  const Verdict v = make_verdict(ss, c);
  json top = {{"command", "audit"}, {"model", c.model}, {"budget", c.budget}, {"seed", c.seed}, {"dtype", c.dtype},
              {"model_info", {{"architecture", c.info.value("architecture", "")}, {"n_layer", c.info.value("n_layer", 0)},
                              {"d_model", c.info.value("d_model", 0)}, {"n_head", c.info.value("n_head", 0)},
                              {"n_vocab", c.info.value("n_vocab", 0)}, {"n_params", c.info.value("n_params", 0)}}}};
  json sections_j = json::object(), findings = json::object();
  int errors = 0;
  for (const auto& s : ss) {
    sections_j[s.sec->name] = {{"status", s.status}, {"reason", s.reason.empty() ? json(nullptr) : json(s.reason)},
                               {"resumed", s.resumed}, {"seconds", s.seconds}, {"cpu_seconds", s.cpu_seconds()}};
    top[s.sec->name] = s.status == "error" ? json{{"status", "error"}, {"reason", s.reason}} : s.summary;
    if (s.status == "ok")
      findings[s.sec->name] = {{"strength", s.finding.strength}, {"headline", s.finding.headline}, {"text", s.finding.text}};
    errors += s.status == "error";
  }
  top["sections"] = sections_j;
  top["verdict"] = {{"lines", v.lines}, {"findings", findings}};
  top["seconds"] = seconds;
  write_page(ss, c, v, seconds, o.max_charts);
  data::write_summary_json(c.out + "/summary.json", top);
  std::printf("report: %s/report.html\n", c.out.c_str());
  for (const auto& l : v.lines) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
  if (errors) fail("audit: ", errors, " section(s) failed; see ", c.out, "/report.html and the logs/ folder of each");
}

rs::cli::Registrar audit_command{"audit", "Reasoning audit: the five analyses on built-in data, one report (the main job)",
                       [](CLI::App& sub) {
  auto o = std::make_shared<AuditOptions>();
  sub.footer(
      "Runs the five analyses briefly on built-in generated data and writes one report: spectral verification of "
      "Lean proofs (built-in miniF2F sample) and chains of thought, QK-score consistency heads on ProntoQA (1-5 hops), control-vector steering on bAbI-15-style "
      "deduction, two-hop reasoning on the built-in fact table (logit lens, causal tracing, CREME), and task "
      "clustering of hidden states (and of a small model trained from scratch). Finished sections are kept and not recomputed when rerun with the same model, "
      "budget and seed; an interrupt (Ctrl-C) leaves only whole files.\n"
      "Writes DIR/<section>/ (each command's summary.json, examples.jsonl, report.html), DIR/summary.json (each\n"
      "section's summary under its name, sections {status, reason, resumed, seconds}, verdict {lines, findings})\n"
      "and DIR/report.html. Prints the report's path and the verdict lines on stdout.\n"
      "Examples:\n"
      "  reasonscope audit --out runs/audit\n"
      "  reasonscope audit --model other.gguf --budget full --seed 1 --out runs/audit-other");
  sub.add_option("--model,-m", o->model, "Model: a .gguf file, a model directory, or an installed model's name (`reasonscope models`, e.g. "
                 "qwen2.5-coder-0.5b; default: smollm2-135m)");
  sub.add_option("--budget", o->budget, "quick (small samples, < 10 min on 2 CPU cores) or full (larger samples)")
      ->check(CLI::IsMember({"quick", "full"}))
      ->capture_default_str();
  sub.add_option("--seed", o->seed, "Seed of the generated data, folds and bootstrap")->capture_default_str();
  sub.add_option("--device", o->device, "cpu or cuda[:N]")->capture_default_str();
  sub.add_option("--dtype", o->dtype, "f32, bf16 or f16")->check(CLI::IsMember({"f32", "bf16", "f16"}))->capture_default_str();
  sub.add_option("--threads", o->threads, "CPU threads per analysis (default: OMP_NUM_THREADS if set, else all cores)");
  sub.add_option("--only", o->only, "Comma list of sections to run (spectral, qk, steer, twohop, cluster; default all)");
  sub.add_option("--max-charts", o->max_charts, "Charts per section report on the audit page")->capture_default_str();
  sub.add_option("--out,-o", o->out, "Output directory")->required();
  sub.callback([o] { run_audit(*o); });
}};

}  // namespace
}  // namespace rs::cli
