# Finds the dependencies Atoll takes from pkg-config (libzstd, hwloc, libibverbs) and defines
# PkgConfig::ZSTD, PkgConfig::HWLOC and PkgConfig::IBVERBS. Used by Atoll's own build and,
# installed next to AtollConfig.cmake, by projects that find_package(Atoll).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  set(_atoll_pkg_quiet)
  if(AtollPkgDeps_FIND_QUIETLY)
    set(_atoll_pkg_quiet QUIET)
  endif()
  pkg_check_modules(ZSTD ${_atoll_pkg_quiet} IMPORTED_TARGET libzstd)
  pkg_check_modules(HWLOC ${_atoll_pkg_quiet} IMPORTED_TARGET hwloc)
  pkg_check_modules(IBVERBS ${_atoll_pkg_quiet} IMPORTED_TARGET libibverbs)
  unset(_atoll_pkg_quiet)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(AtollPkgDeps
  REQUIRED_VARS PKG_CONFIG_EXECUTABLE ZSTD_FOUND HWLOC_FOUND IBVERBS_FOUND
  REASON_FAILURE_MESSAGE
    "Atoll needs pkg-config and libzstd, hwloc, libibverbs (Debian: pkgconf libzstd-dev libhwloc-dev libibverbs-dev)")
