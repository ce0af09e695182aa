// Worker threads: one tbb::task_arena per NUMA node, pinned to that node through
// task_arena::constraints (TBB's hwloc binding), each owning a contiguous range of vertices.
#pragma once

#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <memory>
#include <string>
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
