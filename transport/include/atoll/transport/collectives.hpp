// Collectives over a started Transport: barrier, allreduce (sum, min, max of any trivially
// copyable element type, scalars or vectors), allgather and broadcast. Every rank calls the
// same collectives in the same order. Everything travels a binomial tree rooted at rank 0
// (O(log ranks) steps per rank); reductions combine partials of consecutive rank ranges in a
// fixed tree order, so a floating-point result is the same on every rank and in every run.
#pragma once

#include <algorithm>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "atoll/transport/transport.hpp"

namespace atl {

enum class ReduceOp { kSum, kMin, kMax };

class Collectives {
 public:
  /// Must be created before transport.start() (it registers a handler); one per Transport.
  explicit Collectives(Transport& transport);
  ~Collectives();
  Collectives(const Collectives&) = delete;
  Collectives& operator=(const Collectives&) = delete;

  void barrier();

  /// Element-wise reduction of data across ranks, in place; every rank passes the same size.
  template <typename T>
  void allreduce(std::span<T> data, ReduceOp op) {
    static_assert(std::is_trivially_copyable_v<T>, "allreduce needs trivially copyable data");
    allreduce_bytes(std::as_writable_bytes(data), sizeof(T),
                    [op](std::byte* acc, const std::byte* in, std::size_t count) {
                      for (std::size_t i = 0; i < count; ++i) {
                        T a, b;
                        std::memcpy(&a, acc + i * sizeof(T), sizeof(T));
                        std::memcpy(&b, in + i * sizeof(T), sizeof(T));
                        T r = op == ReduceOp::kSum   ? T(a + b)
                              : op == ReduceOp::kMin ? std::min(a, b)
                                                     : std::max(a, b);
                        std::memcpy(acc + i * sizeof(T), &r, sizeof(T));
                      }
                    });
  }
  template <typename T>
  T allreduce(T value, ReduceOp op) {
    allreduce(std::span<T>(&value, 1), op);
    return value;
  }

  /// Every rank contributes bytes (any size); every rank gets all contributions by rank.
  std::vector<std::string> allgather(std::string_view mine);
  /// root's data replaces everyone else's.
  void broadcast(int root, std::string& data);

  /// Type-erased core of allreduce: combine(acc, in, count) folds `in` into `acc`.
  using Combine = std::function<void(std::byte* acc, const std::byte* in, std::size_t count)>;
  void allreduce_bytes(std::span<std::byte> data, std::size_t element_size, const Combine& combine);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atl
