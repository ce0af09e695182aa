#include "atoll/engine/checkpoint_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/mix64.hpp"
#include "atoll/common/temp_file.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/cluster.hpp"
#include "checkpoint_file.hpp"
#include "checkpoint_manifest.hpp"
#include "checkpoint_topology.hpp"

namespace atl {
namespace {

namespace fs = std::filesystem;
using detail::CheckpointRecordSizes;
using detail::CheckpointSections;
using detail::Manifest;
using detail::WrittenFile;

constexpr std::string_view kEpochPrefix = "epoch-";

std::string epoch_dir(const std::string& dir, std::uint64_t epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch-%08llu", static_cast<unsigned long long>(epoch));
  return (fs::path(dir) / name).string();
}

std::string rank_file(const std::string& epoch_path, std::size_t rank) {
  char name[32];
  std::snprintf(name, sizeof name, "rank-%05zu.ckpt", rank);
  return (fs::path(epoch_path) / name).string();
}

/// The epoch directories in dir (numbers, ascending); none when dir does not exist.
std::vector<std::uint64_t> list_epochs(const std::string& dir) {
  std::vector<std::uint64_t> epochs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kEpochPrefix, 0) != 0 || !entry.is_directory()) continue;
    std::uint64_t n = 0;
    const char* first = name.data() + kEpochPrefix.size();
    const char* last = name.data() + name.size();
    auto [end, err] = std::from_chars(first, last, n);
    if (err == std::errc() && end == last) epochs.push_back(n);
  }
  std::sort(epochs.begin(), epochs.end());
  return epochs;
}

/// Where the files of the last deleted epoch wait to be overwritten by the next epoch's: on a
/// file system that discards freed blocks, deleting and allocating them again each epoch
/// stalled the run for a sweep.
std::string recycle_dir(const std::string& dir) {
  return (fs::path(dir) / "recycle").string();
}

bool has_manifest(const std::string& dir, std::uint64_t epoch) {
  return fs::exists(fs::path(epoch_dir(dir, epoch)) / "MANIFEST");
}

void make_dir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) fail("cannot create checkpoint directory '", path, "': ", ec.message());
}

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(what, ": cannot open: ", std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The rank that collects the records of vertex gid during resume.
int directory_rank(Gid gid, int ranks) {
  return static_cast<int>(detail::reduce64(detail::mix64(gid), static_cast<std::uint64_t>(ranks)));
}

/// Appends a u64 count and then `bytes`.
void put_run(std::vector<std::byte>& out, std::uint64_t count, const std::byte* bytes,
             std::size_t size) {
  const std::size_t at = out.size();
  out.resize(at + sizeof count + size);
  std::memcpy(out.data() + at, &count, sizeof count);
  if (size > 0) std::memcpy(out.data() + at + sizeof count, bytes, size);
}

/// Reads a u64 count and count x record bytes from a peer's buffer, checking every bound.
std::span<const std::byte> take_run(std::span<const std::byte>& in, std::size_t record, int peer) {
  std::uint64_t count = 0;
  if (in.size() < sizeof count) fail("checkpoint resume: short buffer from rank ", peer);
  std::memcpy(&count, in.data(), sizeof count);
  in = in.subspan(sizeof count);
  if (record == 0 || count > in.size() / record) {
    fail("checkpoint resume: rank ", peer, " sent ", count, " records of ", record, " bytes in ",
         in.size(), " bytes");
  }
  std::span<const std::byte> run = in.first(count * record);
  in = in.subspan(count * record);
  return run;
}

Gid gid_at(const std::byte* record) {
  Gid g;
  std::memcpy(&g, record, sizeof g);
  return g;
}

/// Sorted positions of the records in `bytes` by their leading gid (then the second gid when
/// `by_pair`), stable.
std::vector<std::size_t> sorted_records(const std::vector<std::byte>& bytes, std::size_t record,
                                        bool by_pair) {
  std::vector<std::size_t> order(record > 0 ? bytes.size() / record : 0);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Gid ga = gid_at(bytes.data() + a * record), gb = gid_at(bytes.data() + b * record);
    if (ga != gb || !by_pair) return ga < gb;
    return gid_at(bytes.data() + a * record + sizeof(Gid)) <
           gid_at(bytes.data() + b * record + sizeof(Gid));
  });
  return order;
}

std::vector<std::byte> gather_sorted(const std::vector<std::byte>& bytes, std::size_t record,
                                     bool by_pair) {
  std::vector<std::byte> out(bytes.size());
  const std::vector<std::size_t> order = sorted_records(bytes, record, by_pair);
  for (std::size_t i = 0; i < order.size(); ++i) {
    std::memcpy(out.data() + i * record, bytes.data() + order[i] * record, record);
  }
  return out;
}

/// Records with leading gid g in a run sorted by leading gid: [first, last) record indices.
std::pair<std::size_t, std::size_t> equal_range(const std::vector<std::byte>& sorted,
                                                std::size_t record, Gid g) {
  std::size_t lo = 0, hi = record > 0 ? sorted.size() / record : 0;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (gid_at(sorted.data() + mid * record) < g)
      lo = mid + 1;
    else
      hi = mid;
  }
  std::size_t end = lo;
  while (end * record < sorted.size() && gid_at(sorted.data() + end * record) == g) ++end;
  return {lo, end};
}

std::string not_written(std::uint64_t epoch) {
  return str_cat("checkpoint epoch ", epoch, " not written (earlier epochs stay valid): ");
}

}  // namespace

struct CheckpointStore::State {
  CheckpointOptions options;
  CheckpointShape shape;
  Cluster* cluster;
  int rank = 0;
  int ranks = 1;
  std::mutex lock;  ///< next_epoch, since_last, stats (the asynchronous snapshot's thread)
  std::uint64_t next_epoch = 1;
  Timer since_last;
  CheckpointRecordSizes sizes;
  std::mutex image_lock;         ///< image (one file is laid out at a time)
  std::vector<std::byte> image;  ///< a rank file laid out in memory, reused

  /// The epoch write_behind started. Stage kFiles: every rank's `thread` writes its file;
  /// stage kManifest: rank 0's writes the manifest. The thread alone touches the rest until
  /// it sets `done`.
  struct Behind {
    enum Stage { kFiles, kManifest } stage = kFiles;
    std::uint64_t epoch = 0;
    std::uint64_t iteration = 0;
    CheckpointPart part;
    CheckpointFileInfo info;
    std::vector<CheckpointFileInfo> files;  ///< rank 0, stage kManifest
    std::string error;
    Timer timer;  ///< since the epoch began
    std::atomic<bool> done{false};
    std::thread thread;
    ~Behind() {
      if (thread.joinable()) thread.join();  // never committed
    }
  };
  std::unique_ptr<Behind> behind;
  CheckpointPart spare;  ///< the last committed write_behind part's buffers

  /// Every rank's string, in rank order.
  std::vector<std::string> gather(const std::string& mine) {
    if (cluster == nullptr) return {mine};
    return cluster->collectives.allgather(mine);
  }
  /// Rank 0's string on every rank.
  std::string from_root(std::string mine) {
    if (cluster != nullptr) cluster->collectives.broadcast(0, mine);
    return mine;
  }
  /// Fails on every rank when some rank reported an error (in rank order, the first one).
  void agree(const std::string& error, const std::string& context) {
    const std::vector<std::string> all = gather(error);
    for (std::size_t r = 0; r < all.size(); ++r) {
      if (!all[r].empty()) fail(context, all.size() > 1 ? str_cat("rank ", r, ": ") : "", all[r]);
    }
  }
  std::vector<std::vector<std::byte>> all_to_all(std::vector<std::vector<std::byte>> out) {
    if (cluster == nullptr) return out;
    return cluster->exchange.all_to_all(std::move(out));
  }

  void prune() {
    std::vector<std::uint64_t> epochs = list_epochs(options.dir);
    std::vector<std::uint64_t> valid;
    for (auto e : epochs) {
      if (has_manifest(options.dir, e)) valid.push_back(e);
    }
    if (valid.size() <= options.keep) return;
    const std::uint64_t oldest_kept = valid[valid.size() - options.keep];
    std::uint64_t newest_deleted = 0;
    for (auto e : epochs) {
      if (e < oldest_kept) newest_deleted = e;
    }
    for (auto e : epochs) {
      if (e >= oldest_kept) continue;
      std::error_code ec;
      // The manifest goes first: an epoch half deleted is never taken for a valid one.
      fs::remove(fs::path(epoch_dir(options.dir, e)) / "MANIFEST", ec);
      if (e == newest_deleted) {  // its files become the next epoch's (recycle_dir)
        std::error_code gone;
        fs::remove_all(recycle_dir(options.dir), gone);  // what the last epoch did not take
        fs::rename(epoch_dir(options.dir, e), recycle_dir(options.dir), ec);
        if (!ec) continue;
      }
      fs::remove_all(epoch_dir(options.dir, e), ec);
      if (ec)
        log_warn(str_cat("checkpoint: cannot delete old epoch ", epoch_dir(options.dir, e), ": ",
                         ec.message()));
    }
    // Durable before the next epoch overwrites the recycled files in place.
    sync_directory(recycle_dir(options.dir));
    sync_directory(options.dir);
  }
};

CheckpointStore::CheckpointStore(const CheckpointOptions& options, CheckpointShape shape,
                                 Cluster* cluster)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.options = options;
  s.shape = std::move(shape);
  s.cluster = cluster;
  s.rank = cluster != nullptr ? cluster->rank() : 0;
  s.ranks = cluster != nullptr ? cluster->size() : 1;
  s.sizes = {static_cast<std::uint32_t>(sizeof(CheckpointVertexHeader) + s.shape.vertex_bytes),
             static_cast<std::uint32_t>(sizeof(CheckpointEdgeHeader) + s.shape.edge_bytes),
             static_cast<std::uint32_t>(sizeof(CheckpointMessageHeader) + s.shape.message_bytes)};
  if (options.keep == 0) usage_fail("--checkpoint-keep must be at least 1");
  if (!options.writes()) return;
  std::string error;
  if (s.rank == 0) {
    try {
      make_dir(options.dir);
      if (options.resume.empty() || fs::path(options.resume) != fs::path(options.dir)) {
        for (auto e : list_epochs(options.dir)) {
          if (has_manifest(options.dir, e)) {
            error =
                str_cat("checkpoint directory '", options.dir,
                        "' already holds epochs of an earlier run (", epoch_dir(options.dir, e),
                        "); resume with --resume ", options.dir, " or choose another directory");
            break;
          }
        }
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  error = s.from_root(error);
  if (!error.empty()) usage_fail(error);
}

CheckpointStore::~CheckpointStore() {
  state_->behind.reset();  // joins a background write before stats_, which it may touch, goes
}

bool CheckpointStore::due(std::uint64_t iterations) {
  State& s = *state_;
  if (!s.options.writes()) return false;
  bool due = s.options.every > 0 && iterations % s.options.every == 0;
  if (s.options.interval > 0) {
    // Rank 0's clock decides, so that every rank agrees.
    std::string by_time;
    if (s.rank == 0) {
      std::lock_guard guard(s.lock);
      if (s.since_last.seconds() >= s.options.interval) by_time = "1";
    }
    if (!s.from_root(by_time).empty()) due = true;
  }
  return due;
}

std::uint64_t CheckpointStore::reserve_epoch() {
  std::lock_guard guard(state_->lock);
  return state_->next_epoch++;
}

CheckpointFileInfo CheckpointStore::write_part(std::uint64_t epoch, const CheckpointPart& part) {
  State& s = *state_;
  const std::string dir = epoch_dir(s.options.dir, epoch);
  make_dir(dir);
  CheckpointRecordSizes sizes = s.sizes;  // a saved topology's edges carry their weight
  sizes.edge += part.topology.weight_bytes;
  std::lock_guard guard(s.image_lock);
  const WrittenFile written = detail::write_checkpoint_file(
      rank_file(dir, static_cast<std::size_t>(s.rank)), epoch, s.rank, s.ranks, sizes,
      {part.vertices, part.edges, part.messages}, s.image,
      rank_file(recycle_dir(s.options.dir), static_cast<std::size_t>(s.rank)));
  return {written.bytes, written.crc};
}

void CheckpointStore::write_manifest(std::uint64_t epoch, std::uint64_t iteration,
                                     const std::map<std::string, std::string>& state,
                                     std::span<const CheckpointFileInfo> files, double seconds,
                                     bool asynchronous, const CheckpointTopology& topology) {
  State& s = *state_;
  const std::string dir = epoch_dir(s.options.dir, epoch);
  Manifest m;
  m.epoch = epoch;
  m.iteration = iteration;
  m.shape = s.shape;
  m.state = state;
  m.topology = topology;
  std::uint64_t bytes = 0;
  for (const CheckpointFileInfo& f : files) {
    m.files.push_back({f.bytes, f.crc});
    bytes += f.bytes;
  }
  sync_directory(dir);
  TempFile manifest((fs::path(dir) / "MANIFEST").string(), "checkpoint manifest");
  manifest.write(detail::format_manifest(m));
  manifest.commit(true);
  std::lock_guard guard(s.lock);
  s.prune();
  s.since_last.reset();
  stats_.written.push_back({epoch, iteration, seconds, bytes, asynchronous});
  log_info(str_cat("checkpoint: ", asynchronous ? "snapshot " : "", "epoch ", epoch,
                   asynchronous ? " during iteration " : " after iteration ", iteration, " in ",
                   dir, " (", bytes, " bytes, ", seconds, " s)"));
}

void CheckpointStore::write(std::uint64_t iteration, CheckpointPart part) {
  State& s = *state_;
  settle(true);
  Timer timer;
  const std::uint64_t epoch = reserve_epoch();
  std::string error;
  CheckpointFileInfo written;
  try {
    written = write_part(epoch, part);
  } catch (const std::exception& e) {
    error = e.what();
  }
  const std::vector<CheckpointFileInfo> files = gather_files(epoch, written, error);
  std::string manifest_error;
  if (s.rank == 0) {
    try {
      write_manifest(epoch, iteration, part.state, files, timer.seconds(), false, part.topology);
    } catch (const std::exception& e) {
      manifest_error = e.what();
    }
  }
  end_epoch(epoch, iteration, manifest_error, timer.seconds());
  s.spare = std::move(part);
}

void CheckpointStore::write_behind(std::uint64_t iteration, CheckpointPart part) {
  State& s = *state_;
  settle(true);
  auto b = std::make_unique<State::Behind>();
  b->epoch = reserve_epoch();
  b->iteration = iteration;
  b->part = std::move(part);
  State::Behind* job = b.get();
  b->thread = std::thread([this, job] {
    try {
      job->info = write_part(job->epoch, job->part);
    } catch (const std::exception& e) {
      job->error = e.what();
    }
    job->done.store(true, std::memory_order_release);
  });
  s.behind = std::move(b);
}

bool CheckpointStore::settle(bool wait) {
  State& s = *state_;
  if (!s.behind) return true;  // the same on every rank: they started it together
  if (!wait) {
    const bool mine = s.behind->stage == State::Behind::kManifest && s.rank != 0
                          ? true
                          : s.behind->done.load(std::memory_order_acquire);
    std::uint32_t done = mine ? 1 : 0;
    if (s.cluster != nullptr) done = s.cluster->collectives.allreduce(done, ReduceOp::kMin);
    if (done == 0) return false;
  }
  // Held here while the ranks agree: an error on the way discards the epoch (never committed).
  std::unique_ptr<State::Behind> b = std::move(s.behind);
  if (b->thread.joinable()) b->thread.join();
  if (b->stage == State::Behind::kFiles) {
    b->files = gather_files(b->epoch, b->info, b->error);  // fails every rank on a write error
    b->stage = State::Behind::kManifest;
    if (s.rank == 0) {  // rank 0 writes the manifest while the run goes on
      b->done.store(false, std::memory_order_relaxed);
      State::Behind* job = b.get();
      b->thread = std::thread([this, job] {
        try {
          write_manifest(job->epoch, job->iteration, job->part.state, job->files,
                         job->timer.seconds(), false, job->part.topology);
        } catch (const std::exception& e) {
          job->error = e.what();
        }
        job->done.store(true, std::memory_order_release);
      });
    }
    if (!wait) {  // every rank: the manifest is awaited at a later settle
      s.behind = std::move(b);
      return false;
    }
    if (b->thread.joinable()) b->thread.join();
  }
  end_epoch(b->epoch, b->iteration, b->error, b->timer.seconds());  // rank 0: the manifest's
  s.spare = std::move(b->part);
  return true;
}

CheckpointPart CheckpointStore::take_spare() {
  return std::exchange(state_->spare, {});
}

std::vector<CheckpointFileInfo> CheckpointStore::gather_files(std::uint64_t epoch,
                                                              const CheckpointFileInfo& written,
                                                              std::string error) {
  State& s = *state_;
  std::vector<std::string> all =
      s.gather(error.empty() ? str_cat(written.bytes, " ", written.crc) : std::string());
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) error = error.empty() ? str_cat("rank ", r, " failed") : error;
  }
  s.agree(error, not_written(epoch));
  std::vector<CheckpointFileInfo> files;
  for (const std::string& line : all) {
    unsigned long long b = 0;
    unsigned c = 0;
    std::sscanf(line.c_str(), "%llu %u", &b, &c);
    files.push_back({b, c});
  }
  return files;
}

void CheckpointStore::end_epoch(std::uint64_t epoch, std::uint64_t iteration,
                                std::string manifest_error, double seconds) {
  State& s = *state_;
  manifest_error = s.from_root(manifest_error);
  if (!manifest_error.empty()) fail(not_written(epoch), manifest_error);
  if (s.rank != 0) {
    std::lock_guard guard(s.lock);
    s.since_last.reset();
    stats_.written.push_back({epoch, iteration, seconds, 0, false});
  }
}

RestoredEpoch CheckpointStore::resume(std::span<const Gid> vertices,
                                      std::span<const Gid> edge_sources) {
  State& s = *state_;
  Timer timer;
  const std::string& root = s.options.resume;
  // Rank 0 lists the candidates, newest first, so that every rank tries the same ones.
  std::string listing;
  if (s.rank == 0) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      listing = "!";
    } else {
      for (auto e : list_epochs(root)) listing = str_cat(e, " ", listing);
    }
  }
  listing = s.from_root(listing);
  if (listing == "!") fail("--resume '", root, "': no such directory");
  std::vector<std::uint64_t> candidates;
  {
    std::istringstream in(listing);
    std::uint64_t e;
    while (in >> e) candidates.push_back(e);
  }
  if (candidates.empty()) fail("--resume '", root, "': no checkpoint epoch in it");
  std::vector<std::string> rejected;
  for (std::uint64_t epoch : candidates) {
    const std::string dir = epoch_dir(root, epoch);
    const std::string manifest_path = (fs::path(dir) / "MANIFEST").string();
    std::string error;
    Manifest m;
    bool mismatch = false;
    try {
      if (!fs::exists(manifest_path)) {
        error = str_cat(dir, ": no MANIFEST (an epoch that was never completed)");
      } else {
        const std::string what = str_cat("checkpoint manifest '", manifest_path, "'");
        m = detail::parse_manifest(read_text(manifest_path, what), what);
        if (m.epoch != epoch) error = str_cat(what, ": says epoch ", m.epoch);
        const std::string why = detail::shape_mismatch(m.shape, s.shape);
        if (error.empty() && !why.empty()) {
          error = str_cat("cannot resume from ", dir, ": ", why);
          mismatch = true;
        }
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    // Every rank reads the same manifest; rank 0's verdict counts.
    error = s.from_root(mismatch ? "!" + error : error);
    if (!error.empty() && error[0] == '!') fail(error.substr(1));
    if (error.empty()) {
      CheckpointSections sections;
      CheckpointRecordSizes sizes = s.sizes;  // a saved topology's edges carry their weight
      sizes.edge += m.topology.weight_bytes;
      try {
        for (std::size_t f = static_cast<std::size_t>(s.rank); f < m.files.size();
             f += static_cast<std::size_t>(s.ranks)) {
          detail::read_checkpoint_file(rank_file(dir, f), epoch, sizes, m.files[f], sections);
        }
      } catch (const std::exception& e) {
        error = e.what();
      }
      for (const std::string& e : s.gather(error)) {
        if (!e.empty()) {
          error = e;
          break;
        }
      }
      if (error.empty()) {
        RestoredEpoch out;
        out.dir = dir;
        out.epoch = epoch;
        out.iteration = m.iteration;
        out.state = std::move(m.state);
        if (m.topology.saved) {  // the records are the graph: placed anew (checkpoint_topology)
          detail::route_saved_topology(std::move(sections), sizes, m.topology, dir, vertices,
                                       s.cluster, out);
          s.next_epoch = candidates.front() + 1;
          stats_.resumed_from = dir;
          stats_.resumed_iteration = out.iteration;
          stats_.resume_seconds = timer.seconds();
          if (s.rank == 0) {
            if (!rejected.empty())
              log_warn(str_cat("checkpoint: resuming from the older epoch ", dir));
            log_info(str_cat("checkpoint: resumed from ", dir, " (iteration ", out.iteration,
                             ", its own topology of ", m.topology.vertices, " vertices and ",
                             m.topology.edges, " edges, written by ", m.files.size(), " ranks) in ",
                             timer.seconds(), " s"));
          }
          return out;
        }
        // Records to their directory ranks, with this rank's requests.
        const auto n = static_cast<std::size_t>(s.ranks);
        std::vector<std::vector<std::byte>> vbuf(n), ebuf(n), mbuf(n), qv(n), qe(n);
        auto route = [&](const std::vector<std::byte>& records, std::size_t size,
                         std::size_t key_at, std::vector<std::vector<std::byte>>& into) {
          for (std::size_t at = 0; at < records.size(); at += size) {
            const int d = directory_rank(gid_at(records.data() + at + key_at), s.ranks);
            into[d].insert(into[d].end(), records.data() + at, records.data() + at + size);
          }
        };
        route(sections.vertices, s.sizes.vertex, 0, vbuf);
        route(sections.edges, s.sizes.edge, 0, ebuf);
        route(sections.messages, s.sizes.message, 0, mbuf);
        sections = {};
        for (Gid g : vertices) {
          auto& q = qv[directory_rank(g, s.ranks)];
          const auto* p = reinterpret_cast<const std::byte*>(&g);
          q.insert(q.end(), p, p + sizeof g);
        }
        for (Gid g : edge_sources) {
          auto& q = qe[directory_rank(g, s.ranks)];
          const auto* p = reinterpret_cast<const std::byte*>(&g);
          q.insert(q.end(), p, p + sizeof g);
        }
        std::vector<std::vector<std::byte>> outgoing(n);
        for (std::size_t d = 0; d < n; ++d) {
          auto& o = outgoing[d];
          put_run(o, vbuf[d].size() / s.sizes.vertex, vbuf[d].data(), vbuf[d].size());
          put_run(o, ebuf[d].size() / s.sizes.edge, ebuf[d].data(), ebuf[d].size());
          put_run(o, mbuf[d].size() / s.sizes.message, mbuf[d].data(), mbuf[d].size());
          put_run(o, qv[d].size() / sizeof(Gid), qv[d].data(), qv[d].size());
          put_run(o, qe[d].size() / sizeof(Gid), qe[d].data(), qe[d].size());
          vbuf[d] = {}, ebuf[d] = {}, mbuf[d] = {}, qv[d] = {}, qe[d] = {};
        }
        std::vector<std::vector<std::byte>> incoming = s.all_to_all(std::move(outgoing));
        // As a directory rank: sort what arrived, answer each rank's requests.
        std::vector<std::byte> dv, de, dm;
        std::vector<std::span<const std::byte>> asked_v(n), asked_e(n);
        std::string route_error;
        try {
          for (std::size_t p = 0; p < n; ++p) {
            std::span<const std::byte> in = incoming[p];
            const int peer = static_cast<int>(p);
            auto v = take_run(in, s.sizes.vertex, peer);
            auto e = take_run(in, s.sizes.edge, peer);
            auto msg = take_run(in, s.sizes.message, peer);
            asked_v[p] = take_run(in, sizeof(Gid), peer);
            asked_e[p] = take_run(in, sizeof(Gid), peer);
            if (!in.empty()) fail("checkpoint resume: ", in.size(), " stray bytes from rank ", p);
            dv.insert(dv.end(), v.begin(), v.end());
            de.insert(de.end(), e.begin(), e.end());
            dm.insert(dm.end(), msg.begin(), msg.end());
          }
        } catch (const std::exception& e) {
          route_error = e.what();
        }
        dv = gather_sorted(dv, s.sizes.vertex, false);
        de = gather_sorted(de, s.sizes.edge, true);
        dm = gather_sorted(dm, s.sizes.message, false);
        std::vector<std::vector<std::byte>> replies(n);
        for (std::size_t p = 0; p < n && route_error.empty(); ++p) {
          std::vector<std::byte> rv, re, rm;
          for (std::size_t i = 0; i < asked_v[p].size(); i += sizeof(Gid)) {
            const Gid g = gid_at(asked_v[p].data() + i);
            auto [lo, hi] = equal_range(dv, s.sizes.vertex, g);
            if (hi - lo != 1) {
              route_error =
                  str_cat(dir, ": ",
                          hi == lo ? "has no record of vertex " : "has two records of vertex ", g);
              break;
            }
            rv.insert(rv.end(), dv.begin() + lo * s.sizes.vertex, dv.begin() + hi * s.sizes.vertex);
            auto [mlo, mhi] = equal_range(dm, s.sizes.message, g);
            rm.insert(rm.end(), dm.begin() + mlo * s.sizes.message,
                      dm.begin() + mhi * s.sizes.message);
          }
          for (std::size_t i = 0; i < asked_e[p].size(); i += sizeof(Gid)) {
            auto [lo, hi] = equal_range(de, s.sizes.edge, gid_at(asked_e[p].data() + i));
            re.insert(re.end(), de.begin() + lo * s.sizes.edge, de.begin() + hi * s.sizes.edge);
          }
          put_run(replies[p], rv.size() / s.sizes.vertex, rv.data(), rv.size());
          put_run(replies[p], re.size() / s.sizes.edge, re.data(), re.size());
          put_run(replies[p], rm.size() / s.sizes.message, rm.data(), rm.size());
        }
        s.agree(route_error, "checkpoint resume: ");
        incoming = {};
        std::vector<std::vector<std::byte>> answers = s.all_to_all(std::move(replies));
        for (std::size_t p = 0; p < n; ++p) {
          std::span<const std::byte> in = answers[p];
          const int peer = static_cast<int>(p);
          auto v = take_run(in, s.sizes.vertex, peer);
          auto e = take_run(in, s.sizes.edge, peer);
          auto msg = take_run(in, s.sizes.message, peer);
          out.vertices.insert(out.vertices.end(), v.begin(), v.end());
          out.edges.insert(out.edges.end(), e.begin(), e.end());
          out.messages.insert(out.messages.end(), msg.begin(), msg.end());
        }
        out.vertices = gather_sorted(out.vertices, s.sizes.vertex, false);
        out.edges = gather_sorted(out.edges, s.sizes.edge, true);
        out.messages = gather_sorted(out.messages, s.sizes.message, false);
        s.next_epoch = candidates.front() + 1;
        stats_.resumed_from = dir;
        stats_.resumed_iteration = out.iteration;
        stats_.resume_seconds = timer.seconds();
        if (s.rank == 0) {
          if (!rejected.empty())
            log_warn(str_cat("checkpoint: resuming from the older epoch ", dir));
          log_info(str_cat("checkpoint: resumed from ", dir, " (iteration ", out.iteration,
                           ", written by ", m.files.size(), " ranks) in ", timer.seconds(), " s"));
        }
        return out;
      }
    }
    if (s.rank == 0) log_warn(str_cat("checkpoint: skipping epoch ", dir, ": ", error));
    rejected.push_back(error);
  }
  std::string all;
  for (const std::string& r : rejected) all += "\n  " + r;
  fail("--resume '", root, "': no valid checkpoint epoch:", all);
}

}  // namespace atl
