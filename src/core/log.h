// Progress and messages go to stderr so stdout stays machine-readable (--json, tokens).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace rs {

void set_verbosity(int level);  // 0 quiet, 1 normal (default), 2 debug
int verbosity();
void log_info(const std::string& msg);
void log_debug(const std::string& msg);
void log_warn(const std::string& msg);

// "label  37/120 [eta 12s]" redrawn on a TTY, one line per ~10% otherwise.
class Progress {
 public:
  Progress(std::string label, uint64_t total);
  void tick(uint64_t n = 1);
  void done();
  ~Progress();

 private:
  std::string label_;
  uint64_t total_, count_ = 0;
  int last_decile_ = -1;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  void draw(bool force);
};

}  // namespace rs
