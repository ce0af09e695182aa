#include "atoll/graph/load_topology.hpp"

#include <cstdint>
#include <numeric>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/input_file.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atom_part.hpp"
#include "binary_format.hpp"

namespace atl {

Topology load_topology(const std::string& path, GraphFormat format, MtxLayout layout,
                       const BuildOptions& options) {
  if (is_atom_directory(path)) {
    // Atoms not relabelled by degree (nor weighted and symmetrized) are decoded straight into
    // the rows of a part of one rank (atom_part.hpp), holding no edge records; others build
    // from their edges (read_edge_list also refuses a --format for a directory).
    const bool placed = format == GraphFormat::kAuto && !options.degree_order;
    const AtomIndex index = placed ? read_atom_index(path) : AtomIndex{};
    if (placed && !(index.weighted && options.symmetrize)) {
      std::vector<std::uint32_t> all(index.atoms.size());
      std::iota(all.begin(), all.end(), 0);
      const std::vector<int> on_rank_0(index.atoms.size(), 0);
      return detail::build_placed_part(
          detail::read_atom_part(path, index, all, on_rank_0, 0, options.symmetrize), options);
    }
    return Topology::build(read_edge_list(path, format), options);
  }
  EdgeList edges;
  {
    InputFile file = InputFile::open(path);
    const GraphFormat detected =
        format == GraphFormat::kAuto ? detect_format(file.bytes()) : format;
    if (detected == GraphFormat::kBin && file.compression() == Compression::kNone) {
      auto release = [&file](std::size_t offset, std::size_t length) {
        file.release(offset, length);
      };
      const std::string_view bytes = file.bytes();
      const detail::BinaryLayout layout_of = detail::check_binary(bytes, path, release);
      EdgeView view;
      const auto* first = reinterpret_cast<const Edge*>(bytes.data() + detail::kBinaryHeaderSize);
      view.edges = {first, layout_of.m};
      if (layout_of.weighted) {
        view.weights = {reinterpret_cast<const double*>(first + layout_of.m), layout_of.m};
      }
      view.weighted = layout_of.weighted;
      view.declared = layout_of.declared;
      const std::size_t m = layout_of.m;
      const bool weighted = layout_of.weighted;
      view.release = [&release, m, weighted](std::size_t begin, std::size_t end) {
        release(detail::kBinaryHeaderSize + begin * sizeof(Edge), (end - begin) * sizeof(Edge));
        if (weighted) {  // the weights follow the edge records
          release(detail::kBinaryHeaderSize + m * sizeof(Edge) + begin * sizeof(double),
                  (end - begin) * sizeof(double));
        }
      };
      try {
        return Topology::build(view, options);
      } catch (const Error& e) {
        fail(path, ": ", e.what());
      }
    }
    edges = parse_edge_list(file.bytes(), detected, path, layout);
  }  // the file's mapping is gone before the build
  return Topology::build(std::move(edges), options);
}

}  // namespace atl
