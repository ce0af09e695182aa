// Worker threads: one tbb::task_arena per NUMA node, pinned to that node through
// task_arena::constraints (TBB's hwloc binding), each owning a contiguous range of vertices.
//
// run_workers (the locking engine's long-lived workers) starts one std::thread per worker,
// each inside its node's arena. ThreadSanitizer builds (ATOLL_STD_THREAD_WORKERS) keep TBB to
// the calling thread (oneTBB is not instrumented, so its hand-offs would read as races) and
// run those workers outside any arena: every synchronisation between them is then Atoll's own.
#pragma once

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "atoll/engine/worker_index.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

/// A contiguous range of local vertex ids [begin, end).
struct LidRange {
  Lid begin = 0;
  Lid end = 0;
};

class WorkerPool {
 public:
  /// threads == 0: all hardware threads. Threads are spread over the NUMA nodes TBB reports.
  explicit WorkerPool(int threads);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return threads_; }
  int nodes() const { return static_cast<int>(arenas_.size()); }
  int node_threads(int node) const { return node_threads_[node]; }
  /// One line: threads, NUMA nodes, whether threads are pinned.
  std::string describe() const;

  /// Splits [0, n) into one range per node, proportional to the node's threads.
  std::vector<LidRange> split(Lid n) const;

  /// Runs body(worker) for every worker in [0, threads()) at once, each on its own thread, and
  /// waits for all; the first exception is rethrown. For loops that run until a distributed
  /// condition holds (the locking engine's workers), not for data-parallel work: TBB does not
  /// promise that tasks run concurrently, so each worker is a thread of its own (the caller is
  /// worker 0) that joins its node's arena, and so runs pinned to that node.
  template <typename Body>
  void run_workers(Body&& body) {
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads_));
    auto guarded = [&](int node, int i) {
      auto work = [&] {
        WorkerIndexScope index(i);
        body(i);
      };
      try {
#if defined(ATOLL_STD_THREAD_WORKERS)
        (void)node;
        work();
#else
        arenas_[static_cast<std::size_t>(node)]->execute(work);
#endif
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    };
    std::vector<std::jthread> others;
    for (int node = 0, i = 0; node < nodes(); ++node) {
      for (int t = 0; t < node_threads_[static_cast<std::size_t>(node)]; ++t, ++i) {
        if (i != 0) others.emplace_back(guarded, node, i);
      }
    }
    guarded(0, 0);
    others.clear();  // joins
    for (const std::exception_ptr& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }

  /// Runs body(node) inside every node's arena at once and waits for all of them.
  template <typename Body>
  void run_on_nodes(Body&& body) {
    if (arenas_.size() == 1) {  // common case: no task_group hand-off needed
      arenas_[0]->execute([&] { body(0); });
      return;
    }
    std::vector<tbb::task_group> groups(arenas_.size());
    for (std::size_t i = 0; i < arenas_.size(); ++i) {
      arenas_[i]->execute([&, i] { groups[i].run([&, i] { body(static_cast<int>(i)); }); });
    }
    for (std::size_t i = 0; i < arenas_.size(); ++i) {
      arenas_[i]->execute([&, i] { groups[i].wait(); });
    }
  }

 private:
  int threads_ = 1;
  bool pinned_ = false;
  std::vector<int> numa_ids_;
  std::vector<int> node_threads_;
  std::unique_ptr<tbb::global_control> limit_;
  std::vector<std::unique_ptr<tbb::task_arena>> arenas_;
};

}  // namespace atl
