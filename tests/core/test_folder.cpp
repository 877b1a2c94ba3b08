#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "core/atomic_file.h"
#include "core/folder.h"

#include "../temp_dir.h"

namespace {

std::string temp_dir() { return rs_test::temp_dir("rs_folder_"); }

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

TEST(Folder, RemoveFlatFolderRemovesItsFilesAndItself) {
  const std::string d = temp_dir();
  rs::write_file_atomic(d + "/rows.jsonl", "{}\n");
  rs::write_file_atomic(d + "/settings.json", "{}");
  rs::write_file_atomic(d + "/.hidden", "x");
  rs::remove_flat_folder(d);
  EXPECT_FALSE(exists(d));
}

TEST(Folder, RemoveFlatFolderKeepsAFolderWithASubfolder) {
  const std::string d = temp_dir();
  rs::make_dirs(d + "/sub");
  rs::write_file_atomic(d + "/rows.jsonl", "{}\n");
  rs::write_file_atomic(d + "/sub/keep", "x");
  rs::remove_flat_folder(d);
  EXPECT_FALSE(exists(d + "/rows.jsonl"));
  EXPECT_TRUE(exists(d + "/sub/keep"));
  rs::remove_flat_folder(d + "/sub");
  rs::remove_flat_folder(d);
  EXPECT_FALSE(exists(d));
}

TEST(Folder, RemoveFlatFolderOfNothingIsNoError) {
  const std::string d = temp_dir();
  rs::remove_flat_folder(d);
  ASSERT_FALSE(exists(d));
  EXPECT_NO_THROW(rs::remove_flat_folder(d));
}

TEST(Folder, IsDirectoryFollowsLinksAndRemovingUnlinksThem) {
  const std::string d = temp_dir(), target = temp_dir();
  rs::write_file_atomic(target + "/kept", "x");
  rs::write_file_atomic(d + "/file", "x");
  ASSERT_EQ(::symlink(target.c_str(), (d + "/link").c_str()), 0);
  EXPECT_TRUE(rs::is_directory(d));
  EXPECT_TRUE(rs::is_directory(d + "/link"));
  EXPECT_FALSE(rs::is_directory(d + "/file"));
  EXPECT_FALSE(rs::is_directory(d + "/missing"));
  rs::remove_flat_folder(d);  // the link goes, not what it points to
  EXPECT_FALSE(exists(d));
  EXPECT_TRUE(exists(target + "/kept"));
  rs::remove_flat_folder(target);
}

}  // namespace
