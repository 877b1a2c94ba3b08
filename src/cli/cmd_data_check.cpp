// reasonscope data check F.jsonl --schema NAME: validate a JSONL file (UTF-8, JSON, fields and
// types, unique ids) and print counts; on problems list the first ones and exit non-zero.
//
// `data` is shared with `data make` (cmd_data_make.cpp). command.h registers top-level
// commands only, so this file registers under a private name and, when set up, attaches
// `check` to the existing `data` command (creating `data` if it is not there yet), then removes
// its own placeholder. Registry order is by name, so a command named "data" is set up first.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "data/jsonl.h"
#include "data/schema.h"

namespace {

struct CheckOptions {
  std::string file;
  std::string schema;
  std::string field = "text";
  size_t max_errors = 20;
  bool json = false;
};

std::string schema_list() {
  std::string out;
  for (const auto& n : rs::data::schema_names()) {
    const auto& s = rs::data::get_schema(n);
    out += "\n  " + n + ": " + s.description + " (";
    for (size_t i = 0; i < s.fields.size(); ++i)
      out += (i ? ", " : "") + s.fields[i].name + (s.fields[i].required ? "" : "?");
    out += ")";
  }
  return out;
}

void run_check(const CheckOptions& o) {
  rs::data::Schema text_schema;
  const rs::data::Schema* schema = nullptr;
  if (o.schema == "text") {
    text_schema = rs::data::text_schema(o.field);
    schema = &text_schema;
  } else {
    schema = &rs::data::get_schema(o.schema);
  }
  const rs::data::JsonlReport rep = rs::data::check_jsonl(o.file, *schema, o.max_errors);
  if (o.json) {
    std::printf("%s\n", rep.to_json().dump(2).c_str());
  } else {
    std::printf("file    %s\nschema  %s\nrows    %llu valid of %llu lines (%llu bytes)\n",
                rep.path.c_str(), rep.schema.c_str(), (unsigned long long)rep.rows,
                (unsigned long long)rep.lines, (unsigned long long)rep.bytes);
    for (const auto& [field, tally] : rep.counts) {
      std::printf("%s:", field.c_str());
      for (const auto& [value, n] : tally) std::printf("  %s=%llu", value.c_str(), (unsigned long long)n);
      std::printf("\n");
    }
  }
  if (!rep.ok()) {
    for (const auto& e : rep.errors) std::fprintf(stderr, "%s\n", e.c_str());
    if (rep.n_errors > rep.errors.size())
      std::fprintf(stderr, "... and %llu more\n",
                   (unsigned long long)(rep.n_errors - rep.errors.size()));
    rs::fail(o.file, ": ", rep.n_errors, " bad line(s) for schema '", rep.schema,
             "' (listed above)");
  }
}

void add_check(CLI::App& data) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* check = data.add_subcommand(
      "check",
      "Validate a JSONL file against a named schema: every line must be valid UTF-8 and one JSON "
      "object with the schema's fields and types; ids must be unique. Blank lines are skipped, "
      "CRLF and a leading byte order mark are accepted. Prints row counts (and per-label / "
      "per-hops / per-task counts where the schema has them); on problems lists the first "
      "ones as FILE:LINE: field 'F': expected T, found U and exits 1.\nSchemas:" +
          schema_list());
  check->add_option("file", o->file, "JSONL file to check")->required();
  check->add_option("--schema,-s", o->schema, "Schema name (see above)")->required();
  check->add_option("--field", o->field,
                    "For --schema text: the string field every row must have")
      ->capture_default_str();
  check->add_option("--max-errors", o->max_errors, "How many problems to list")
      ->capture_default_str();
  check->add_flag("--json", o->json, "Print the counts as JSON on stdout");
  check->callback([o] { run_check(*o); });
}

rs::cli::Registrar data_check_command{"data-check", "", [](CLI::App& self) {
  rs::cli::attach_under(self, "data", "Datasets: generate (data make), validate (data check), label (data label)", "check", add_check);
}};

}  // namespace
