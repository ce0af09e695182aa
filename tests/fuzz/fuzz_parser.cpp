// libFuzzer target for one graph parser (chosen by ATOLL_FUZZ_PARSER at compile time). Any
// input must either parse or raise atl::Error; a parsed graph must also build into a CSR.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "atoll/common/error.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    atl::EdgeList list = atl::ATOLL_FUZZ_PARSER(bytes, "fuzz-input");
    // A declared range of billions of isolated vertices is valid but not worth the memory here.
    if (list.declared && list.declared->count > (1u << 20)) return 0;
    atl::Topology graph = atl::Topology::build(list, {true, true});
    (void)graph;
  } catch (const atl::Error&) {
  }
  return 0;
}
