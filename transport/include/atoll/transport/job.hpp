// Who this process is in a job, and where the job's rendezvous is.
#pragma once

#include <optional>
#include <string>

namespace atl {

/// This rank's identity and the bootstrap rendezvous of its job.
struct JobInfo {
  int rank = 0;
  int size = 1;
  std::string coordinator;  ///< host:port where rank 0 listens for the bootstrap
  std::string token;        ///< per-job secret; bootstrap connections without it are dropped
  /// Rank 0 under `atoll launch`: the inherited, bound, listening rendezvous socket (made
  /// close-on-exec; Bootstrap uses it without closing it). -1 otherwise.
  int listen_fd = -1;
  std::string launcher;  ///< "single", "atoll-launch", "mpirun", "srun", "pmi" or "manual"
};

/// Values given on the command line; they win over the environment.
struct JobOverrides {
  std::optional<int> rank;
  std::optional<int> size;
  std::optional<std::string> coordinator;
  std::optional<std::string> token;
};

/// Environment variables `atoll launch` sets for each rank.
inline constexpr const char* kEnvRank = "ATOLL_RANK";
inline constexpr const char* kEnvSize = "ATOLL_SIZE";
inline constexpr const char* kEnvCoordinator = "ATOLL_COORDINATOR";
inline constexpr const char* kEnvToken = "ATOLL_JOB_TOKEN";
inline constexpr const char* kEnvListenFd = "ATOLL_COORDINATOR_FD";

/// Works out the job: explicit overrides, then ATOLL_* (atoll launch), then the launcher's
/// variables (OMPI_COMM_WORLD_RANK/SIZE, SLURM_PROCID/SLURM_NTASKS, PMI_RANK/PMI_SIZE), else
/// a single rank. Under mpirun/srun/PMI without a coordinator, all ranks derive the same
/// 127.0.0.1 port and token from the launcher's job id (one host; give --coordinator for
/// several). Throws a usage Error for inconsistent values (rank outside 0..size-1, ...).
///
/// Details:
///  - rank and size overrides go together and make the launcher "manual".
///  - coordinator and token each come from the override, else ATOLL_COORDINATOR /
///    ATOLL_JOB_TOKEN (so `mpirun -x` can pass them for a multi-host job), else are derived
///    from the launcher's job id (OMPI_MCA_orte_ess_jobid | OMPI_MCA_ess_base_jobid |
///    PMIX_NAMESPACE; SLURM_JOB_ID + SLURM_STEP_ID; PMIX_NAMESPACE | PMI_KVSNAME | PMI_PORT)
///    into 127.0.0.1:20000..59999. A derived token separates jobs, it is no secret.
///  - Integers are strict decimals; an empty variable counts as unset. size is 1..65536,
///    the coordinator HOST:PORT or [IPv6]:PORT with port 1..65535, the token at most 1 KiB.
///    Errors name the variable or flag and the value.
///  - A job of more than one rank needs a coordinator and a token.
///  - ATOLL_COORDINATOR_FD is used by rank 0 of "atoll-launch" only, and only if it is a
///    listening socket (else rank 0 binds the coordinator port itself).
JobInfo detect_job(const JobOverrides& overrides);

/// How many ranks of job share this machine: all of them under atoll launch, the launcher's
/// count under mpirun (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS) or srun
/// (SLURM_NTASKS_PER_NODE), else 1. A rank's fair share of the cores is the cores divided by it.
int local_job_ranks(const JobInfo& job);

/// The CPUs this process may run on (its affinity mask; the machine's when that is unknown).
int usable_cpus();

/// This rank's cores: the CPUs of its affinity mask when srun or mpirun bound it to fewer than
/// the machine has, else the CPUs it may use (the machine's, or the mask atoll launch's ranks
/// share) divided by local_job_ranks (at least 1).
int rank_cores(const JobInfo& job);

}  // namespace atl
