// The apps built into atoll: each app file defines its register_*_app(), listed once here.
#pragma once

#include <vector>

#include "atoll/engine/engine_options.hpp"
#include "atoll/engine/graphlab_engines.hpp"

namespace atl {

void register_pagerank_app();
void register_cc_app();
void register_sssp_app();
void register_jacobi_app();
void register_coem_app();
void register_lbp_app();
void register_denoise_app();
void register_als_app();
void register_kcore_app();
void register_triangles_app();
void register_coloring_app();
void register_labelprop_app();

/// The engines of an app with a GraphLab program and a Pregel form.
inline std::vector<EngineKind> graphlab_and_pregel_engines() {
  std::vector<EngineKind> engines(graphlab_engines().begin(), graphlab_engines().end());
  engines.push_back(EngineKind::kPregel);
  return engines;
}

/// Registers every built-in app (called once, on first use of the registry).
inline void register_builtin_apps() {
  register_pagerank_app();
  register_cc_app();
  register_sssp_app();
  register_jacobi_app();
  register_coem_app();
  register_lbp_app();
  register_denoise_app();
  register_als_app();
  register_kcore_app();
  register_triangles_app();
  register_coloring_app();
  register_labelprop_app();
}

}  // namespace atl
