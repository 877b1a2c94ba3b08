// Outputs appear whole or not at all: write to "<path>.tmp.<pid>", fsync, rename over <path>.
// An interrupted run therefore never leaves a half-written summary.json or tensor file.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace rs {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // opens the temporary file; throws rs::Error
  ~AtomicFile();                           // not committed -> temporary removed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  uint64_t bytes_written() const { return written_; }
  void commit();  // flush, fsync, rename into place
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

// Convenience: whole contents at once.
void write_file_atomic(const std::string& path, std::string_view contents);
// Creates a directory and its parents; throws rs::Error naming the path on failure.
void make_dirs(const std::string& dir);
// Reads a whole file; throws rs::Error naming the path.
std::string read_file(const std::string& path);

}  // namespace rs
