#!/usr/bin/env bash
# Sets up dependencies, builds, and runs every test:
#   1. Release build (-Werror), all GoogleTest suites through ctest;
#   2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer: the same suites again,
#      plus the libFuzzer targets for each parser, each run for a bounded time;
#   3. ThreadSanitizer build of the transport and its multi-process tests, of the scheduler
#      tests (scheduler_tsan_test), of the locking engine's components with simulated ranks
#      as std::threads, and of the engines themselves on several threads and real ranks
#      (engine_threads_test). In this build the engines' workers are std::threads and TBB runs
#      on its caller (worker_pool.hpp): oneTBB is not instrumented, so its hand-offs would read
#      as races, and every synchronisation left is Atoll's own.
# Environment: JOBS (default 2), FUZZ_SECONDS (default 20 per target), SKIP_SANITIZERS=1.
#
# scripts/test.sh --quick: the edit-compile-test loop: the Release build, the unit tests and the
# multi-rank engine and load suites (no transport suites, no sanitizer builds; a few minutes).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
  esac
done
bash "$root/scripts/setup.sh"
export ATOLL_WERROR=ON
export CTEST_OUTPUT_ON_FAILURE=1

echo "== release build and tests"
bash "$root/scripts/build.sh" "$root/build"
if ((quick)); then
  ctest --test-dir "$root/build" -j "${JOBS:-2}" --timeout 600 -LE transport
  exit 0
fi
ctest --test-dir "$root/build" -j "${JOBS:-2}" --timeout 600

if [[ "${SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== address+undefined sanitizer build, tests and fuzzers (clang)"
  CC=clang CXX=clang++ bash "$root/scripts/build.sh" "$root/build-asan" \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DATOLL_SANITIZE=address -DATOLL_FUZZ=ON -DATOLL_BUILD_BENCH=OFF \
    -DATOLL_FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
  # The heaviest multi-rank cases run over UCX only here (their TCP instances, /1, run in the
  # Release stage above; the TCP backend itself runs under ASan in the transport suites). That
  # keeps the whole job near 30 minutes on 2 cores.
  heavy_tcp=(LockingRanks.AppsGiveTheChromaticAnswerUnderEveryModelAndScheduler
    LockingRanks.LibraryAppsRunOnTheLockingEngine LockingRanks.RealGraphsGiveTheChromaticAnswer
    EngineRanks.AppsGiveTheSingleRankAnswer MlRanks.FixpointAppsGiveTheSingleRankAnswer
    MlRanks.RealGraphGivesTheSingleRankAnswer Checkpoints.ResumeOnAnotherRankCountGivesTheUninterruptedAnswer
    Consistency.NoAdjacentUpdatesShareAStepUnderEdgeConsistency
    Snapshots.EverySnapshotTakenWhileTokensMoveHoldsTheirTotal
    SsspRanks.EveryEngineFromBothStartsGivesTheReference ComponentsRanks.EveryEngineGivesTheReference)
  filter="-$(printf 'Transports/%s/1:' "${heavy_tcp[@]}")"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    GTEST_FILTER="${filter%:}" ctest --test-dir "$root/build-asan" -j "${JOBS:-2}" --timeout 900
fi

if [[ "${SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== thread sanitizer build: transport, scheduler, locking and engine-thread tests (clang)"
  CC=clang CXX=clang++ bash "$root/scripts/build.sh" "$root/build-tsan" \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DATOLL_SANITIZE=thread -DATOLL_BUILD_BENCH=OFF -DATOLL_TRANSPORT_TESTS_ONLY=ON
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp" \
    ctest --test-dir "$root/build-tsan" -j 1 -L 'transport|tsan|locking' --timeout 900
fi
