#include "atoll/engine/worker_pool.hpp"

#include <tbb/info.h>

#include <algorithm>
#include <thread>

#include "atoll/common/error.hpp"
#include "atoll/transport/job.hpp"

namespace atl {

WorkerPool::WorkerPool(int threads) {
  if (threads < 0) usage_fail("--threads must be at least 1, got ", threads);
  const int hw = usable_cpus();  // TBB's default too: the CPUs this process may run on
  threads_ = threads == 0 ? hw : threads;
#if defined(ATOLL_STD_THREAD_WORKERS)
  const std::size_t tbb_threads = 1;  // see worker_pool.hpp: TBB work stays on its caller
#else
  const std::size_t tbb_threads = static_cast<std::size_t>(threads_);
#endif
  limit_ = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                 tbb_threads);
#if defined(ATOLL_NO_NUMA_BINDING)
  std::vector<tbb::numa_node_id> ids = {-1};  // sanitizer build: tbbbind cannot be loaded
#else
  std::vector<tbb::numa_node_id> ids = tbb::info::numa_nodes();
#endif
  // Without tbbbind/hwloc TBB reports one node with id -1: run unpinned.
  pinned_ = !(ids.size() == 1 && ids[0] < 0);
  int usable =
      static_cast<int>(std::min<std::size_t>(ids.size(), static_cast<std::size_t>(threads_)));
  for (int i = 0; i < usable; ++i) {
    numa_ids_.push_back(ids[i]);
    node_threads_.push_back(threads_ / usable + (i < threads_ % usable ? 1 : 0));
  }
  for (int i = 0; i < usable; ++i) {
    tbb::task_arena::constraints c;
    c.max_concurrency = node_threads_[i];
    if (pinned_) c.numa_id = numa_ids_[i];
    // Only the first arena reserves a slot for the calling thread: it joins that one.
    arenas_.push_back(std::make_unique<tbb::task_arena>(c, i == 0 ? 1u : 0u));
  }
}

std::string WorkerPool::describe() const {
  std::string s = str_cat(threads_, " thread", threads_ == 1 ? "" : "s", " on ", arenas_.size(),
                          " NUMA node", arenas_.size() == 1 ? "" : "s", " (");
  for (std::size_t i = 0; i < arenas_.size(); ++i) {
    s += str_cat(i ? ", " : "", "node ", numa_ids_[i] < 0 ? 0 : numa_ids_[i], ": ",
                 node_threads_[i]);
  }
  s += pinned_ ? "; arenas pinned by tbbbind)" : "; no NUMA binding available, unpinned)";
  return s;
}

std::vector<LidRange> WorkerPool::split(Lid n) const {
  std::vector<LidRange> ranges;
  std::uint64_t begin = 0;
  int assigned = 0;
  for (std::size_t i = 0; i < arenas_.size(); ++i) {
    assigned += node_threads_[i];
    std::uint64_t end = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(assigned) /
                        static_cast<std::uint64_t>(threads_);
    ranges.push_back({static_cast<Lid>(begin), static_cast<Lid>(end)});
    begin = end;
  }
  return ranges;
}

}  // namespace atl
