// The five sections of `reasonscope audit` (issue 14). Each section makes its data with the
// built-in generators (data/gen_make.h) and runs the analysis commands on it as child processes
// (audit_steps.h), writing into DIR/<section>/ what those commands write. A section returns its
// summary (what goes into DIR/<section>/summary.json and under its name in DIR/summary.json);
// judge() turns a summary into one plain-language finding, so a resumed section is judged from
// its files exactly as a fresh one.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rs::cli::audit {

struct Context {
  std::string model, device = "cpu", dtype = "f32";
  std::string out;             // DIR
  std::string budget = "quick";
  uint64_t seed = 0;
  int threads = 0;             // 0: the commands' default (all cores)
  nlohmann::json info;         // `info --json` of the model
  nlohmann::json stamp;        // {model, budget, seed, dtype, device}: what a finished section must match
  mutable nlohmann::json steps = nlohmann::json::array();  // this section's {step, seconds, cpu_seconds}
  bool quick() const { return budget == "quick"; }
  int n_layer() const { return info.value("n_layer", 0); }
  // --model/--device/--dtype/--threads for a model-using command
  std::vector<std::string> model_args() const;
};

// A section that cannot run on this model (or has nothing to work on) throws Skip with the
// reason; a command that fails throws StepFailed with its error line.
struct Skip {
  std::string reason;
};
struct StepFailed {
  std::string step, message;
  int exit_code = 1;  // the command's exit status (README, "Exit statuses"): 5 = longer than the context
};
struct Interrupted {};

struct Finding {
  std::string text;       // one or two plain sentences with the numbers
  std::string headline;   // a short clause for the verdict at the top of the page
  std::string strength;   // "strong", "weak", "mixed" or "none" (nothing to judge)
  // For the overview chart: the method's number beside its baseline on a 0-1 scale
  // (accuracy, share, ARI), with an interval where the section has one (NaN otherwise).
  std::string measure, method_label, baseline_label;
  double method = 0, method_lo = 0, method_hi = 0, baseline = 0;
  bool chart = false;
};

struct Section {
  std::string name, title;
  std::function<nlohmann::json(Context&, const std::string& dir)> run;
  std::function<Finding(const nlohmann::json& summary)> judge;
  // report.html files under DIR/<section>/ whose charts go onto the audit's page, in order
  std::function<std::vector<std::string>(const nlohmann::json& summary)> reports;
  bool writes_own_report = false;  // false: the audit writes DIR/<section>/report.html from `reports`
};

const std::vector<Section>& sections();

}  // namespace rs::cli::audit
