#include <gtest/gtest.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"

#include "../temp_dir.h"

namespace {

std::string temp_dir() { return rs_test::temp_dir("rs_core_"); }

TEST(AtomicFile, UncommittedLeavesNothing) {
  std::string path = temp_dir() + "/out.json";
  {
    rs::AtomicFile f(path);
    f.write("partial");
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(AtomicFile, CommitReplacesWhole) {
  std::string path = temp_dir() + "/out.json";
  rs::write_file_atomic(path, "first");
  rs::write_file_atomic(path, "second");
  EXPECT_EQ(rs::read_file(path), "second");
}

TEST(AtomicFile, MissingDirectoryNamesPath) {
  try {
    rs::AtomicFile f("/nonexistent_dir_rs/x.json");
    FAIL() << "expected rs::Error";
  } catch (const rs::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent_dir_rs/x.json"), std::string::npos);
  }
}

TEST(MakeDirs, CreatesNested) {
  std::string d = temp_dir() + "/a/b/c";
  rs::make_dirs(d);
  EXPECT_EQ(::access(d.c_str(), F_OK), 0);
}

}  // namespace
