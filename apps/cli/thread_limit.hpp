// --threads T: caps TBB's parallelism for the whole process while alive.
#pragma once

#include <tbb/global_control.h>

#include <memory>

#include "atoll/common/error.hpp"

namespace atl::cli {

class ThreadLimit {
 public:
  /// threads == 0 leaves TBB's default (all hardware threads).
  explicit ThreadLimit(int threads) {
    if (threads < 0) usage_fail("--threads must be at least 1, got ", threads);
    if (threads > 0) {
      control_ = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                       static_cast<std::size_t>(threads));
    }
  }

 private:
  std::unique_ptr<tbb::global_control> control_;
};

}  // namespace atl::cli
