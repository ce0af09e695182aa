// Decoding the batches peers put into this rank's mailboxes (ghost pushes, ghost write-backs,
// cut-edge pushes). The bytes come from the network: every count, mode and index is checked
// against what is left and against this rank's own ranges before the callbacks see it, and a
// malformed batch throws an Error naming the source rank. Pure functions, so that the tests
// and the fuzzers can feed them any bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/ids.hpp"

namespace atl::detail {

/// Reads a batch front to back, checking every length against what is left.
class BatchReader {
 public:
  BatchReader(std::span<const std::byte> bytes, int source, const char* what)
      : p_(bytes.data()), left_(bytes.size()), source_(source), what_(what) {}
  template <typename T>
  T value() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  const std::byte* take(std::size_t n) {
    if (n > left_) fail("rank ", source_, " sent a truncated ", what_);
    const std::byte* at = p_;
    p_ += n;
    left_ -= n;
    return at;
  }
  /// Throws unless at least count records of record_bytes each are left.
  void expect_records(std::uint64_t count, std::size_t record_bytes) const {
    if (record_bytes != 0 && count > left_ / record_bytes) {
      fail("rank ", source_, " sent a truncated ", what_, " (", count, " records announced)");
    }
  }
  /// Bytes not read yet.
  std::size_t left() const { return left_; }
  /// Throws unless the batch has been read to its end.
  void expect_end() const {
    if (left_ != 0) fail("rank ", source_, " sent ", left_, " extra bytes in a ", what_);
  }

 private:
  const std::byte* p_;
  std::size_t left_;
  int source_;
  const char* what_;
};

/// Appends v's bytes to a batch being encoded.
template <typename T>
void append_value(std::vector<std::byte>& out, T v) {
  const std::size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

enum : std::uint64_t { kSparseBatch = 0, kDenseBatch = 1 };

/// What a ghost batch from `source` may touch here: its ghost range [ghost_begin, ghost_end)
/// and the owned vertices [0, owned).
struct GhostBatchLimits {
  Lid ghost_begin;
  Lid ghost_end;
  Lid owned;
  std::size_t value_bytes;
};

/// The entries of a sparse ghost batch, (u32 ghost lid, data) each, every lid checked to lie in
/// the sender's ghost range: a view the receiver may walk in any order or in parallel.
class SparseEntries {
 public:
  SparseEntries(const std::byte* at, std::uint64_t n, std::size_t value_bytes)
      : at_(at), n_(n), entry_(sizeof(Lid) + value_bytes) {}
  std::uint64_t size() const { return n_; }
  Lid lid(std::uint64_t i) const {
    Lid v;
    std::memcpy(&v, at_ + i * entry_, sizeof(Lid));
    return v;
  }
  const std::byte* data(std::uint64_t i) const { return at_ + i * entry_ + sizeof(Lid); }

 private:
  const std::byte* at_;
  std::uint64_t n_;
  std::size_t entry_;
};

/// A ghost push: u64 mode, u64 count, then count x data (dense: the whole ghost range in order)
/// or count x (u32 ghost lid, data) (sparse), then u64 requests, requests x (u32 lid, f64).
/// Calls dense(data of the whole range) or sparse(SparseEntries), then request(owned lid,
/// priority) for each request.
template <typename Dense, typename Sparse, typename Request>
void decode_ghost_batch(std::span<const std::byte> bytes, int source, const GhostBatchLimits& l,
                        Dense&& dense, Sparse&& sparse, Request&& request) {
  BatchReader batch(bytes, source, "ghost batch");
  const auto mode = batch.value<std::uint64_t>();
  const auto n = batch.value<std::uint64_t>();
  if (mode == kDenseBatch) {
    if (n != l.ghost_end - l.ghost_begin) {
      fail("rank ", source, " sent ", n, " values for a ghost range of ",
           l.ghost_end - l.ghost_begin);
    }
    batch.expect_records(n, l.value_bytes);
    const std::byte* src = batch.take(n * l.value_bytes);
    if (n > 0) dense(src);
  } else if (mode == kSparseBatch) {
    batch.expect_records(n, sizeof(Lid) + l.value_bytes);
    const SparseEntries entries(batch.take(n * (sizeof(Lid) + l.value_bytes)), n, l.value_bytes);
    for (std::uint64_t i = 0; i < n; ++i) {
      const Lid lid = entries.lid(i);
      if (lid < l.ghost_begin || lid >= l.ghost_end) {
        fail("rank ", source, " sent data for lid ", lid, ", outside its ghost range here");
      }
    }
    if (n > 0) sparse(entries);
  } else {
    fail("rank ", source, " sent a ghost batch of unknown mode ", mode);
  }
  const auto requests = batch.value<std::uint64_t>();
  batch.expect_records(requests, sizeof(Lid) + sizeof(double));
  for (std::uint64_t i = 0; i < requests; ++i) {
    const Lid lid = batch.value<Lid>();
    const double priority = batch.value<double>();
    if (lid >= l.owned) {
      fail("rank ", source, " asked to schedule lid ", lid, ", which is not owned here");
    }
    request(lid, priority);
  }
  batch.expect_end();
}

/// A ghost write-back: u64 count, then count x (u32 owned lid here, data). Calls
/// value(owned lid, data); the caller checks that source holds a copy of the vertex.
template <typename Value>
void decode_write_back(std::span<const std::byte> bytes, int source, Lid owned,
                       std::size_t value_bytes, Value&& value) {
  BatchReader batch(bytes, source, "write-back");
  const auto n = batch.value<std::uint64_t>();
  batch.expect_records(n, sizeof(Lid) + value_bytes);
  for (std::uint64_t i = 0; i < n; ++i) {
    const Lid lid = batch.value<Lid>();
    const std::byte* src = batch.take(value_bytes);
    if (lid >= owned) fail("rank ", source, " wrote back lid ", lid, ", which is not owned here");
    value(lid, src);
  }
  batch.expect_end();
}

/// A cut-edge push: u64 count, then count x (u32 index into the edges shared with source,
/// data). Calls value(index, data).
template <typename Value>
void decode_cut_edge_batch(std::span<const std::byte> bytes, int source, std::size_t shared,
                           std::size_t edge_bytes, Value&& value) {
  BatchReader batch(bytes, source, "cut-edge batch");
  const auto n = batch.value<std::uint64_t>();
  batch.expect_records(n, sizeof(std::uint32_t) + edge_bytes);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto index = batch.value<std::uint32_t>();
    if (index >= shared) fail("rank ", source, " sent data for cut edge ", index, " of ", shared);
    value(index, batch.take(edge_bytes));
  }
  batch.expect_end();
}

}  // namespace atl::detail
