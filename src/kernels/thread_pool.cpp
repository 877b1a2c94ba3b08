#include "kernels/thread_pool.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define RS_PAUSE() _mm_pause()
#else
#define RS_PAUSE() std::this_thread::yield()
#endif

namespace rs::kernels {

// RS_POOL_SPIN_US: a whole number of microseconds, or the default when unset
static int64_t spin_us_from_env() {
  const char* v = std::getenv("RS_POOL_SPIN_US");
  if (!v || !*v) return 50;
  char* end = nullptr;
  errno = 0;
  const long long us = std::strtoll(v, &end, 10);
  if (*end != '\0' || errno != 0 || us < 0 || us > 10'000'000)
    throw std::invalid_argument(std::string("RS_POOL_SPIN_US=") + v + ": expected microseconds, 0 to 10000000");
  return us;
}

ThreadPool::ThreadPool(int n_threads) : spin_us_(spin_us_from_env()) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::chunk(int index, int64_t& b, int64_t& e) const {
  // equal shares of whole `align` units
  const int64_t units = (n_ + align_ - 1) / align_;
  const int64_t per = units / n_threads_, extra = units % n_threads_;
  const int64_t u0 = index * per + std::min<int64_t>(index, extra);
  const int64_t u1 = u0 + per + (index < extra ? 1 : 0);
  b = std::min(n_, u0 * align_);
  e = std::min(n_, u1 * align_);
}

void ThreadPool::run(int64_t n, int64_t align, Body body, void* ctx) {
  if (n <= 0) return;
  if (n_threads_ == 1) {
    body(ctx, 0, n);
    return;
  }
  body_ = body;
  ctx_ = ctx;
  n_ = n;
  align_ = std::max<int64_t>(1, align);
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    // the lock orders the job fields before the bump for workers that are asleep
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  int64_t b, e;
  chunk(0, b, e);
  if (b < e) body(ctx, b, e);
  while (pending_.load(std::memory_order_acquire) != 0) RS_PAUSE();
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin spin_us_ for the next loop of the same decode step, then sleep.
    uint64_t g = generation_.load(std::memory_order_acquire);
    const auto t0 = std::chrono::steady_clock::now();
    const auto spin = std::chrono::microseconds(spin_us_);
    for (int spins = 0; g == seen && !stop_.load(std::memory_order_relaxed); ++spins) {
      RS_PAUSE();
      if ((spins & 255) == 255 && std::chrono::steady_clock::now() - t0 > spin) {
        std::unique_lock<std::mutex> lock(mu_);
        auto ready = [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; };
        if (!ready()) {
          sleeps_.fetch_add(1, std::memory_order_relaxed);
          cv_.wait(lock, ready);
        }
      }
      g = generation_.load(std::memory_order_acquire);
    }
    if (stop_.load()) return;
    seen = g;
    int64_t b, e;
    chunk(index, b, e);
    if (b < e) body_(ctx_, b, e);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace rs::kernels
