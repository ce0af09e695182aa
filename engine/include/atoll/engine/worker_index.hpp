// The index of the engine worker running on the calling thread, set by
// WorkerPool::run_workers for the length of a worker's loop. Schedulers use it as the thread's
// slot, so a worker keeps its slot from one phase to the next, whatever thread runs it.
#pragma once

namespace atl {

/// The calling thread's worker index, or -1 outside run_workers.
inline thread_local int current_worker_index = -1;

/// Sets current_worker_index for a scope (a worker's loop).
class WorkerIndexScope {
 public:
  explicit WorkerIndexScope(int index) : saved_(current_worker_index) {
    current_worker_index = index;
  }
  ~WorkerIndexScope() { current_worker_index = saved_; }
  WorkerIndexScope(const WorkerIndexScope&) = delete;
  WorkerIndexScope& operator=(const WorkerIndexScope&) = delete;

 private:
  int saved_;
};

}  // namespace atl
