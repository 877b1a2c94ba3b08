// A small fixed pool of worker threads for the decode step's many short parallel loops
// (~150 per token, each 10-200 us): workers spin briefly between loops, then sleep, so a
// dispatch costs well under a microsecond while decoding and nothing while idle.
// RS_POOL_SPIN_US (environment, read when a pool is made; default 50): how long a worker spins
// for the next loop before it sleeps. A sleeping worker costs a wake-up (a futex call, several
// microseconds) on the next loop; a spinning one costs a core's time.
//
//   rs::kernels::ThreadPool pool(2);                 // the caller counts as one of the 2
//   pool.parallel_for(rows, [&](int64_t r0, int64_t r1) { ... });  // contiguous ranges
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace rs::kernels {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // <= 0: hardware_concurrency
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int size() const { return n_threads_; }
  // times a worker went to sleep since the pool was made (each costs a wake-up)
  uint64_t sleeps() const { return sleeps_.load(std::memory_order_relaxed); }
  int64_t spin_us() const { return spin_us_; }

  // fn(begin, end) over [0, n) split into size() contiguous chunks (rounded to `align`), the
  // calling thread doing the first. Returns when every chunk is done. Not re-entrant.
  template <class F>
  void parallel_for(int64_t n, F&& fn, int64_t align = 1) {
    run(n, align, [](void* ctx, int64_t b, int64_t e) { (*static_cast<F*>(ctx))(b, e); }, &fn);
  }

 private:
  using Body = void (*)(void*, int64_t, int64_t);
  void run(int64_t n, int64_t align, Body body, void* ctx);
  void worker(int index);
  void chunk(int index, int64_t& b, int64_t& e) const;

  int n_threads_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sleeps_{0};
  int64_t spin_us_ = 50;
  std::mutex mu_;
  std::condition_variable cv_;
  // the current job (written before generation_ is bumped)
  Body body_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, align_ = 1;
};

}  // namespace rs::kernels
