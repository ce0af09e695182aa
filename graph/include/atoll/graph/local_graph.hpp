// The local graph a program runs on: a Topology plus one vertex-data slot per local vertex
// (owned and ghost) and one edge-data slot per edge, each edge's data stored once.
#pragma once

#include <memory>
#include <span>
#include <type_traits>

#include "atoll/graph/topology.hpp"

namespace atl {

template <typename VertexData, typename EdgeData>
class LocalGraph {
  static_assert(std::is_trivially_copyable_v<VertexData>,
                "vertex data must be trivially copyable (it is moved by one-sided writes)");
  static_assert(std::is_trivially_copyable_v<EdgeData>,
                "edge data must be trivially copyable (it is moved by one-sided writes)");

 public:
  /// Takes the structure; data arrays are left uninitialised for the engine to first-touch.
  explicit LocalGraph(Topology topology)
      : topology_(std::move(topology)),
        vertex_data_(std::make_unique_for_overwrite<VertexData[]>(topology_.num_vertices())),
        edge_data_(std::make_unique_for_overwrite<EdgeData[]>(edge_slots())) {}

  const Topology& topology() const { return topology_; }
  std::span<VertexData> vertex_data() { return {vertex_data_.get(), topology_.num_vertices()}; }
  std::span<const VertexData> vertex_data() const {
    return {vertex_data_.get(), topology_.num_vertices()};
  }
  /// Empty edge data (std::is_empty) takes no memory: the span is then empty.
  std::span<EdgeData> edge_data() { return {edge_data_.get(), edge_slots()}; }
  std::span<const EdgeData> edge_data() const { return {edge_data_.get(), edge_slots()}; }

 private:
  std::size_t edge_slots() const { return std::is_empty_v<EdgeData> ? 0 : topology_.num_edges(); }
  Topology topology_;
  std::unique_ptr<VertexData[]> vertex_data_;
  std::unique_ptr<EdgeData[]> edge_data_;
};

}  // namespace atl
