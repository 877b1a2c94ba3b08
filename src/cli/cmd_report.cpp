// reasonscope report demo --out DIR [--seed N]: writes DIR/report.html (every chart type, drawn
// from made-up data) and DIR/summary.json (what the page contains). A way to look at the report
// layer without a model; the analyses build their own pages with the same library (report/).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "cli/command.h"
#include "core/atomic_file.h"
#include "core/log.h"
#include "report/demo.h"

namespace {

struct DemoOptions {
  std::string out;
  uint64_t seed = 1;
};

void run_demo(const DemoOptions& o) {
  rs::make_dirs(o.out);
  rs::report::Report page = rs::report::make_demo_report(o.seed);
  // report.html first, summary.json last: a summary on disk means the run finished.
  page.write(o.out + "/report.html");
  rs::write_file_atomic(o.out + "/summary.json",
                        rs::report::demo_summary(page, o.seed).dump(2) + "\n");
  rs::log_info("wrote " + o.out + "/report.html and " + o.out + "/summary.json");
}

rs::cli::Registrar report_command{
    "report", "Build HTML reports (report demo: every chart type from made-up data)",
    [](CLI::App& sub) {
      sub.require_subcommand(1);
      auto opts = std::make_shared<DemoOptions>();
      CLI::App* demo = sub.add_subcommand(
          "demo",
          "Write DIR/report.html with every chart type (lines with linear and log axes, heat "
          "maps, overlaid histograms, ROC curves, labelled scatter, bars with error bars), a "
          "table and a verdict, all from made-up seeded data; plus DIR/summary.json listing "
          "what was drawn. The page is self-contained (inline CSS and SVG, no scripts, no "
          "network).");
      demo->add_option("--out,-o", opts->out, "Output directory (created if missing)")->required();
      demo->add_option("--seed", opts->seed, "Seed of the made-up data")->capture_default_str();
      demo->callback([opts] { run_demo(*opts); });
    }};

}  // namespace
