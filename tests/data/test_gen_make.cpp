// make_dataset_file (what `reasonscope data make` calls): every kind writes a file that the
// JSONL reader accepts under its schema; bad options or bad --from input give one clear
// rs::Error and leave no file (and no temporary) behind; same seed -> same bytes.
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/gen_make.h"
#include "data/jsonl.h"

using namespace rs::data;

namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rs_gen_make_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  size_t entries() const {
    size_t n = 0;
    DIR* d = ::opendir(path_.c_str());
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
    ::closedir(d);
    return n;
  }

 private:
  std::string path_;
};

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

MakeOptions opts(const std::string& kind, int64_t n, uint64_t seed = 1) {
  MakeOptions o;
  o.kind = kind;
  o.n = n;
  o.seed = seed;
  return o;
}

// Runs make_dataset_file expecting failure; returns the message and checks nothing was left.
std::string expect_failure(const TempDir& dir, const MakeOptions& o) {
  const size_t before = dir.entries();
  const std::string out = dir.file("out.jsonl");
  try {
    make_dataset_file(o, out);
  } catch (const rs::Error& e) {
    EXPECT_FALSE(exists(out)) << "output left behind after: " << e.what();
    EXPECT_EQ(dir.entries(), before) << "temporary left behind after: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for kind " << o.kind;
  return "";
}

}  // namespace

TEST(GenMake, EveryKindWritesAFileItsSchemaAccepts) {
  TempDir dir;
  const std::pair<const char*, const char*> kinds[] = {{"prontoqa", "prontoqa"}, {"twohop", "twohop"},
                                                       {"babi15", "mc"}, {"ioi", "mc"},
                                                       {"instructions", "instructions"}};
  for (const auto& [kind, schema] : kinds) {
    const std::string out = dir.file(std::string(kind) + ".jsonl");
    EXPECT_EQ(make_dataset_file(opts(kind, 40), out), 40u) << kind;
    EXPECT_EQ(read_jsonl(out, schema).size(), 40u) << kind;
  }
  // --from kinds read the files just written.
  MakeOptions cot = opts("cot-pairs", 10);
  cot.n.reset();
  cot.from = dir.file("prontoqa.jsonl");
  EXPECT_EQ(make_dataset_file(cot, dir.file("cot.jsonl")), 80u);
  EXPECT_EQ(read_jsonl(dir.file("cot.jsonl"), "cot-pairs").size(), 80u);
  cot.n = 10;
  EXPECT_EQ(make_dataset_file(cot, dir.file("cot10.jsonl")), 20u);
  for (const char* src : {"prontoqa.jsonl", "babi15.jsonl", "ioi.jsonl"}) {
    MakeOptions p = opts("pairs", 40);
    p.from = dir.file(src);
    EXPECT_EQ(make_dataset_file(p, dir.file(std::string("pairs-") + src)), 40u) << src;
    EXPECT_EQ(read_jsonl(dir.file(std::string("pairs-") + src), "pairs").size(), 40u);
  }
}

TEST(GenMake, SameSeedSameBytes) {
  TempDir dir;
  MakeOptions o = opts("prontoqa", 200, 9);
  make_dataset_file(o, dir.file("a.jsonl"));
  make_dataset_file(o, dir.file("b.jsonl"));
  o.seed = 10;
  make_dataset_file(o, dir.file("c.jsonl"));
  EXPECT_EQ(rs::read_file(dir.file("a.jsonl")), rs::read_file(dir.file("b.jsonl")));
  EXPECT_NE(rs::read_file(dir.file("a.jsonl")), rs::read_file(dir.file("c.jsonl")));
}

TEST(GenMake, ImpossibleParametersFailCleanly) {
  TempDir dir;
  auto has = [](const std::string& msg, const std::string& part) {
    EXPECT_NE(msg.find(part), std::string::npos) << "message \"" << msg << "\" lacks \"" << part << "\"";
  };
  has(expect_failure(dir, opts("nonsense", 5)), "unknown kind \"nonsense\"");
  has(expect_failure(dir, opts("prontoqa", 0)), "--n must be at least 1");
  has(expect_failure(dir, opts("babi15", -3)), "--n must be at least 1");
  MakeOptions o = opts("prontoqa", 5);
  o.hops = "7";
  has(expect_failure(dir, o), "--hops 7 is impossible");
  o.hops = "1-9";
  has(expect_failure(dir, o), "--hops 7 is impossible");
  o.hops = "three";
  has(expect_failure(dir, o), "--hops");
  o.hops.reset();
  o.distractors = "maybe";
  has(expect_failure(dir, o), "--distractors expects on or off");
  MakeOptions t = opts("twohop", 5);
  t.hops = "2";
  has(expect_failure(dir, t), "--hops applies only to kind prontoqa");
  has(expect_failure(dir, opts("twohop", 100000)), "distinct two-hop questions");
  MakeOptions in = opts("instructions", 5);
  in.tasks = 1000;
  has(expect_failure(dir, in), "--tasks 1000 is impossible");
  in.tasks = 8;
  in.distributions = 99;
  has(expect_failure(dir, in), "--distributions 99 is impossible");
  MakeOptions nofrom = opts("cot-pairs", 5);
  has(expect_failure(dir, nofrom), "--from F.jsonl is required");
  MakeOptions nofile = opts("pairs", 5);
  nofile.from = dir.file("missing.jsonl");
  has(expect_failure(dir, nofile), "missing.jsonl");
  MakeOptions stray = opts("babi15", 5);
  stray.from = dir.file("x.jsonl");
  has(expect_failure(dir, stray), "--from applies only to cot-pairs and pairs");
  MakeOptions no_n = opts("ioi", 5);
  no_n.n.reset();
  has(expect_failure(dir, no_n), "--n N (the number of rows) is required");
}

TEST(GenMake, BadFromFileNamesFileLineAndField) {
  TempDir dir;
  const std::string bad = dir.file("bad.jsonl");
  // Line 2 lacks "answer"; cot-pairs reads it as prontoqa.
  rs::write_file_atomic(
      bad,
      R"({"id":"a","hops":1,"context":"Sam is a wumpus.","query":"True or false: Sam is a wumpus.","chain_of_thought":["Sam is a wumpus."],"answer":"True"})"
      "\n"
      R"({"id":"b","hops":1,"context":"c","query":"q","chain_of_thought":["x"]})"
      "\n");
  MakeOptions o = opts("cot-pairs", 1);
  o.n.reset();
  o.from = bad;
  std::string msg = expect_failure(dir, o);
  EXPECT_NE(msg.find("bad.jsonl:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("answer"), std::string::npos) << msg;
  // Malformed JSON.
  rs::write_file_atomic(bad, "{\"id\": \"a\", \n");
  o.kind = "pairs";
  msg = expect_failure(dir, o);
  EXPECT_NE(msg.find("bad.jsonl:1"), std::string::npos) << msg;
  // More rows asked than the file has.
  MakeOptions p = opts("prontoqa", 3);
  make_dataset_file(p, dir.file("three.jsonl"));
  MakeOptions more = opts("cot-pairs", 4);
  more.from = dir.file("three.jsonl");
  msg = expect_failure(dir, more);
  EXPECT_NE(msg.find("more than the 3 rows"), std::string::npos) << msg;
}
