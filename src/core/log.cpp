#include "core/log.h"

#include <unistd.h>

#include <cstdio>

namespace rs {

static int g_verbosity = 1;
void set_verbosity(int level) { g_verbosity = level; }
int verbosity() { return g_verbosity; }
void log_info(const std::string& msg) {
  if (g_verbosity >= 1) std::fprintf(stderr, "%s\n", msg.c_str());
}
void log_debug(const std::string& msg) {
  if (g_verbosity >= 2) std::fprintf(stderr, "[debug] %s\n", msg.c_str());
}
void log_warn(const std::string& msg) { std::fprintf(stderr, "warning: %s\n", msg.c_str()); }

Progress::Progress(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(2)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::tick(uint64_t n) {
  count_ += n;
  draw(false);
}

void Progress::draw(bool force) {
  if (g_verbosity < 1) return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double eta = count_ > 0 && total_ > count_ ? elapsed / count_ * (total_ - count_) : 0.0;
  if (tty_) {
    if (!force && now - last_draw_ < std::chrono::milliseconds(100) && count_ < total_) return;
    last_draw_ = now;
    std::fprintf(stderr, "\r%s %llu/%llu [%.0fs, eta %.0fs]   ", label_.c_str(),
                 (unsigned long long)count_, (unsigned long long)total_, elapsed, eta);
    std::fflush(stderr);
  } else {
    int decile = total_ ? static_cast<int>(10 * count_ / total_) : 10;
    if (!force && decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s %llu/%llu [%.0fs]\n", label_.c_str(), (unsigned long long)count_,
                 (unsigned long long)total_, elapsed);
  }
}

void Progress::done() {
  if (finished_) return;
  finished_ = true;
  draw(true);
  if (tty_ && g_verbosity >= 1) std::fprintf(stderr, "\n");
}

Progress::~Progress() { done(); }

}  // namespace rs
