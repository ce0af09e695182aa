// libFuzzer target for the decoders of atom file block payloads (atom_codec.hpp): vertex and
// ghost id blocks and edge blocks (weighted or not). Any bytes must either decode or be
// reported as malformed; decoded edges must come from the tables the decoder was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "atom_codec.hpp"
#include "fuzz_input.hpp"

using atl::fuzz::take_u32;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t which = data[0] % 4;
  ++data;
  --size;
  // The reader allocates one slot per record, at most one record per payload byte.
  const std::uint32_t records = 1 + take_u32(data, size) % 64;
  const std::uint32_t num_sources = take_u32(data, size) % 40;
  const std::uint32_t num_targets = take_u32(data, size) % 40;
  const std::span<const unsigned char> payload(data, size);
  std::vector<atl::Gid> sources(num_sources), targets(num_targets);
  for (std::uint32_t i = 0; i < num_sources; ++i) sources[i] = 1000 + i;
  for (std::uint32_t i = 0; i < num_targets; ++i) targets[i] = 2000 + i;
  std::vector<atl::Gid> ids(records);
  std::vector<std::uint32_t> owners(records);
  std::vector<atl::Edge> edges(records);
  std::vector<double> weights(records);
  std::string error;
  switch (which) {
    case 0:
      error = atl::detail::decode_id_block(payload, records, ids.data(), nullptr);
      break;
    case 1:
      error = atl::detail::decode_id_block(payload, records, ids.data(), owners.data());
      break;
    default:
      error = atl::detail::decode_edge_block(payload, records, sources, targets, edges.data(),
                                             which == 3 ? weights.data() : nullptr);
      if (error.empty()) {
        for (const atl::Edge& e : edges) {
          if (e.src < 1000 || e.src >= 1000 + num_sources) std::abort();
          if (e.dst < 2000 || e.dst >= 2000 + num_targets) std::abort();
        }
      }
      break;
  }
  if (error.empty() && which < 2) {
    for (std::uint32_t i = 1; i < records; ++i) {
      if (ids[i] <= ids[i - 1]) std::abort();  // decoded ids are strictly ascending
    }
  }
  return 0;
}
