// Worker threads: one tbb::task_arena per NUMA node, pinned to that node through
// task_arena::constraints (TBB's hwloc binding), each owning a contiguous range of vertices.
//
// ThreadSanitizer builds (ATOLL_STD_THREAD_WORKERS) keep TBB to the calling thread (oneTBB is
// not instrumented, so its hand-offs would read as races) and run_workers starts std::threads:
// every synchronisation between the engine's long-lived workers is then Atoll's own, checked.
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
  /// condition holds (the locking engine's workers), not for data-parallel work.
  template <typename Body>
  void run_workers(Body&& body) {
#if defined(ATOLL_STD_THREAD_WORKERS)
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads_));
    auto guarded = [&](int i) {
      try {
        body(i);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    };
    std::vector<std::jthread> others;
    for (int i = 1; i < threads_; ++i) others.emplace_back(guarded, i);
    guarded(0);
    others.clear();  // joins
    for (const std::exception_ptr& e : errors) {
      if (e) std::rethrow_exception(e);
    }
#else
    std::vector<int> first(arenas_.size(), 0);  // worker index of each node's first thread
    for (std::size_t i = 1; i < arenas_.size(); ++i) first[i] = first[i - 1] + node_threads_[i - 1];
    run_on_nodes([&](int node) {
      tbb::parallel_for(
          tbb::blocked_range<int>(0, node_threads_[node], 1),
          [&](const tbb::blocked_range<int>& r) {
            for (int t = r.begin(); t < r.end(); ++t) body(first[node] + t);
          },
          tbb::simple_partitioner());
    });
#endif
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
