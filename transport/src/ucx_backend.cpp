// UCX backend: one ucp worker per process, one endpoint per rank (this rank included),
// active messages over a single UCX AM id carrying an Atoll header, puts with ucp_put_nbx
// into windows mapped with ucp_mem_map.
//
// Wire formats (native byte order: every rank of a job runs the same build on one ISA):
//  - address blob: AddressHeader + ucp worker address
//  - window blob:  WindowHeader + packed rkey (none for a zero-length window)
//  - AM header:    AmHeader {source rank, handler, magic, per-pair sequence number}
//
// Per-pair AM order: UCX does not promise it (rendezvous data lands after later eager
// messages; multi-fragment eager messages may be spread over several lanes), so each message
// carries a sequence number and the receiver delivers strictly in sequence, holding early
// arrivals (copied) and rendezvous messages (received into owned buffers) until their turn.
//
// Error handling: every remote endpoint uses UCP_ERR_HANDLING_MODE_PEER. UCX then only
// selects transports that can report peer failures; shared memory (posix/sysv) claims that
// only with UCX_MM_ERROR_HANDLING=y, so we default it to "y" (unless the environment sets it)
// or UCX would fall back to tcp over loopback inside a node. Peer death is detected by UCX
// keepalive, whose 20 s default interval we lower to 1 s (unless UCX_KEEPALIVE_INTERVAL is
// set). The endpoint to this rank itself uses no error handling, so UCX can pick its
// in-process "self" transport. disconnect() first says goodbye to every peer, so a clean
// shutdown is never reported as a failure by peers still running.
//
// Flush: ucp_ep_flush_nbx completes puts at the target, but not rendezvous sends that are
// still moving data, so post_flush() also waits for the active messages posted before it.
//
// connect() ends with a handshake (every rank tells every peer it is connected, presenting the
// job token; a wrong token fails that peer), so no peer still needs this rank's progress to
// finish connecting once connect() returns. It waits at most BackendOptions::connect_timeout.
#include <ucp/api/ucp.h>

#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <set>
#include <utility>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "backend.hpp"
#include "wire.hpp"

namespace atl::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr unsigned kAmId = 0;  // the only UCX AM id Atoll uses
constexpr std::uint16_t kAmMagic = 0xA70B;
constexpr std::uint16_t kReadyMagic = 0xA70C;        // connect() handshake, never delivered
constexpr std::uint16_t kByeMagic = 0xA70D;          // disconnect(): the sender leaves cleanly
constexpr std::uint32_t kAddressMagic = 0x41544C41;  // "ATLA"
constexpr std::uint32_t kWindowMagic = 0x41544C57;   // "ATLW"
constexpr std::uint32_t kMaxWindows = 1u << 16;
constexpr std::uint64_t kMaxReorder = std::uint64_t{1} << 32;  // sanity bound on seq gaps
constexpr std::size_t kMaxAmBytes = std::size_t{1} << 34;      // 16 GiB
constexpr std::size_t kRkeyPadding = 1 << 16;                  // ucp_ep_rkey_unpack takes no length
constexpr auto kCloseTimeout = std::chrono::seconds(10);

struct AmHeader {
  std::uint32_t source = 0;
  std::uint16_t handler = 0;
  std::uint16_t magic = 0;
  std::uint64_t seq = 0;
};
static_assert(sizeof(AmHeader) == 16);

struct AddressHeader {
  std::uint32_t magic = kAddressMagic;
  std::uint32_t size = 0;  // bytes of ucp address that follow
  std::uint32_t crc = 0;   // crc32c of those bytes
  std::uint32_t reserved = 0;
};
static_assert(sizeof(AddressHeader) == 16);

struct WindowHeader {
  std::uint32_t magic = kWindowMagic;
  std::uint32_t rkey_size = 0;  // bytes of packed rkey that follow
  std::uint64_t address = 0;    // remote virtual address of the window's first byte
  std::uint64_t size = 0;       // window length as registered
  std::uint32_t crc = 0;        // crc32c of address, size and the rkey bytes
  std::uint32_t reserved = 0;
};
static_assert(sizeof(WindowHeader) == 32);

std::uint32_t window_crc(const WindowHeader& h, const void* rkey) {
  std::uint32_t crc = crc32c(0, &h.address, sizeof h.address);
  crc = crc32c(crc, &h.size, sizeof h.size);
  return crc32c(crc, rkey, h.rkey_size);
}

// ---- RAII for UCX handles ------------------------------------------------------------

struct ConfigDeleter {
  void operator()(ucp_config_t* c) const noexcept { ucp_config_release(c); }
};
struct ContextDeleter {
  void operator()(ucp_context_h c) const noexcept { ucp_cleanup(c); }
};
struct WorkerDeleter {
  void operator()(ucp_worker_h w) const noexcept { ucp_worker_destroy(w); }
};
struct RkeyDeleter {
  void operator()(ucp_rkey_h k) const noexcept { ucp_rkey_destroy(k); }
};
struct RkeyBufferDeleter {
  void operator()(void* b) const noexcept { ucp_rkey_buffer_release(b); }
};
struct AddressDeleter {
  ucp_worker_h worker = nullptr;
  void operator()(ucp_address_t* a) const noexcept { ucp_worker_release_address(worker, a); }
};
struct MemDeleter {
  ucp_context_h context = nullptr;
  void operator()(ucp_mem_h m) const noexcept { ucp_mem_unmap(context, m); }
};

using ConfigPtr = std::unique_ptr<ucp_config_t, ConfigDeleter>;
using ContextPtr = std::unique_ptr<std::remove_pointer_t<ucp_context_h>, ContextDeleter>;
using WorkerPtr = std::unique_ptr<std::remove_pointer_t<ucp_worker_h>, WorkerDeleter>;
using RkeyPtr = std::unique_ptr<std::remove_pointer_t<ucp_rkey_h>, RkeyDeleter>;
using RkeyBufferPtr = std::unique_ptr<void, RkeyBufferDeleter>;
using AddressPtr = std::unique_ptr<ucp_address_t, AddressDeleter>;
using MemPtr = std::unique_ptr<std::remove_pointer_t<ucp_mem_h>, MemDeleter>;

struct MemstreamCloser {
  void operator()(FILE* f) const noexcept { fclose(f); }
};
struct FreeDeleter {
  void operator()(char* p) const noexcept { std::free(p); }
};

/// Waits (progressing the worker) for a request returned by an nbx call without callback,
/// then frees it. Returns its status; UCS_ERR_TIMED_OUT if still running at the deadline
/// (the request is then released to complete on its own).
ucs_status_t wait_request(ucp_worker_h worker, ucs_status_ptr_t request,
                          Clock::time_point deadline) {
  if (request == nullptr) return UCS_OK;
  if (UCS_PTR_IS_ERR(request)) return UCS_PTR_STATUS(request);
  ucs_status_t status;
  while ((status = ucp_request_check_status(request)) == UCS_INPROGRESS) {
    if (Clock::now() > deadline) break;
    ucp_worker_progress(worker);
  }
  ucp_request_free(request);
  return status == UCS_INPROGRESS ? UCS_ERR_TIMED_OUT : status;
}

/// Force-closes an endpoint (the RAII fallback; disconnect() closes gracefully first).
struct EndpointCloser {
  ucp_worker_h worker = nullptr;
  void operator()(ucp_ep_h ep) const noexcept {
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags = UCP_EP_CLOSE_FLAG_FORCE;
    wait_request(worker, ucp_ep_close_nbx(ep, &param), Clock::now() + kCloseTimeout);
  }
};
using EndpointPtr = std::unique_ptr<std::remove_pointer_t<ucp_ep_h>, EndpointCloser>;

bool env_set(const char* name) {
  return std::getenv(name) != nullptr;
}

/// Sets a UCX option unless the user's environment already chose it.
void default_option(ucp_config_t* config, const char* name, const char* value) {
  if (env_set(str_cat("UCX_", name).c_str())) return;
  const ucs_status_t status = ucp_config_modify(config, name, value);
  if (status != UCS_OK) {
    log_debug(str_cat("ucx: cannot set ", name, "=", value, ": ", ucs_status_string(status)));
  }
}

/// Reads UCX_* from the environment (UCX_TLS, UCX_NET_DEVICES, ...) and creates the context.
ContextPtr init_context(bool mm_error_handling) {
  ucp_config_t* raw_config = nullptr;
  ucs_status_t status = ucp_config_read(nullptr, nullptr, &raw_config);
  if (status != UCS_OK) fail("ucx: reading the configuration failed: ", ucs_status_string(status));
  const ConfigPtr config(raw_config);
  if (mm_error_handling) ucp_config_modify(config.get(), "MM_ERROR_HANDLING", "y");
  default_option(config.get(), "KEEPALIVE_INTERVAL", "1s");

  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED;
  params.features = UCP_FEATURE_AM | UCP_FEATURE_RMA | UCP_FEATURE_WAKEUP;
  params.mt_workers_shared = 0;
  ucp_context_h context = nullptr;
  status = ucp_init(&params, config.get(), &context);
  if (status != UCS_OK) fail("ucx: ucp_init failed: ", ucs_status_string(status));
  return ContextPtr(context);
}

/// Whether the context has a posix or sysv shared-memory resource.
bool has_shared_memory(ucp_context_h context) {
  char* text = nullptr;
  std::size_t size = 0;
  FILE* raw = open_memstream(&text, &size);
  if (raw == nullptr) return true;
  {
    const std::unique_ptr<FILE, MemstreamCloser> stream(raw);
    ucp_context_print_info(context, stream.get());
  }
  const std::unique_ptr<char, FreeDeleter> owned(text);
  const std::string_view info(text, size);
  return info.find("-- sysv/") != std::string_view::npos ||
         info.find("-- posix/") != std::string_view::npos;
}

double seconds(std::chrono::milliseconds t) {
  return std::chrono::duration<double>(t).count();
}

std::string version_string() {
  return str_cat("ucx ", ucp_get_version_string());
}

// ---- backend -------------------------------------------------------------------------

class UcxBackend;

/// A rendezvous message being received, or an eager one held until its turn.
struct Incoming {
  std::uint16_t handler = 0;
  bool complete = false;
  std::size_t size = 0;
  std::unique_ptr<std::byte[]> bytes;
};

struct RemoteWindow {
  bool present = false;
  std::uint64_t base = 0;
  std::uint64_t size = 0;
  RkeyPtr rkey;
  std::byte* direct = nullptr;  // the window mapped into this process (ucp_rkey_ptr), or null
};

struct Op;

struct Peer {
  UcxBackend* backend = nullptr;
  int rank = 0;
  EndpointPtr ep;  // declared first: destroyed after the rkeys unpacked on it
  bool failed = false;
  bool ready = false;     // connect(): its handshake message arrived
  bool departed = false;  // it said goodbye: its connection closing is no failure
  std::string failure;
  std::vector<RemoteWindow> windows;
  std::uint64_t send_seq = 0;              // next sequence number to send
  std::uint64_t recv_seq = 0;              // next sequence number to deliver
  std::map<std::uint64_t, Incoming> held;  // arrived, not yet delivered (seq >= recv_seq)
  // UCX's endpoint flush does not wait for rendezvous sends still moving data, so flushes
  // also wait for the active messages posted before them. Sends are grouped in generations
  // separated by flushes; am_in_flight[i] counts the unfinished sends of generation
  // first_generation + i (the last entry is the current generation).
  std::uint64_t first_generation = 0;
  std::deque<std::uint32_t> am_in_flight = {0};
  std::vector<Op*> waiting_flushes;  // endpoint flushed, earlier sends still running

  std::uint64_t generation() const { return first_generation + am_in_flight.size() - 1; }
};

enum class OpKind : std::uint8_t { kAm, kPut, kFlush, kRecv };

/// State of one in-flight UCX operation; pooled so steady-state posts do not allocate.
struct Op {
  UcxBackend* backend = nullptr;
  Peer* peer = nullptr;
  Completion* done = nullptr;
  OpKind kind = OpKind::kAm;
  std::uint64_t seq = 0;         // kRecv: the message being received
  std::uint64_t generation = 0;  // kAm, kFlush: see Peer::am_in_flight
  ucs_status_t status = UCS_OK;  // kFlush: the endpoint flush's result
  AmHeader header;               // kAm: UCX 1.13 reads the header until the send completes
};

struct LocalWindow {
  bool present = false;
  bool allocated = false;  // by allocate_window(): UCX owns the memory, kept until destruction
  std::span<std::byte> memory;
  MemPtr memh;  // unmapping an allocated window frees its memory
};

class UcxBackend final : public Backend {
 public:
  explicit UcxBackend(const BackendOptions& options)
      : token_(options.token), connect_timeout_(options.connect_timeout) {
    // MM_ERROR_HANDLING=y lets UCX use shared memory under UCP_ERR_HANDLING_MODE_PEER. UCX
    // warns about the setting when no shared-memory transport is enabled (UCX_TLS=tcp): then
    // start over without it.
    const bool mm = !env_set("UCX_MM_ERROR_HANDLING") && !env_set("UCX_POSIX_ERROR_HANDLING") &&
                    !env_set("UCX_SYSV_ERROR_HANDLING");
    context_ = init_context(mm);
    if (mm && !has_shared_memory(context_.get())) context_ = init_context(false);

    // Transport serializes every call with its lock: no UCX-internal locking needed.
    ucp_worker_params_t worker_params{};
    worker_params.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    worker_params.thread_mode = UCS_THREAD_MODE_SERIALIZED;
    ucp_worker_h worker = nullptr;
    check(ucp_worker_create(context_.get(), &worker_params, &worker), "creating the UCX worker");
    worker_.reset(worker);

    ucp_worker_attr_t attr{};
    attr.field_mask = UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER;
    check(ucp_worker_query(worker_.get(), &attr), "querying the UCX worker");
    if (attr.max_am_header < sizeof(AmHeader)) {
      fail("ucx: active message headers are limited to ", attr.max_am_header, " bytes");
    }

    ucp_am_handler_param_t handler{};
    handler.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS |
                         UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
    handler.id = kAmId;
    handler.flags = UCP_AM_FLAG_WHOLE_MSG;
    handler.cb = &UcxBackend::am_callback;
    handler.arg = this;
    check(ucp_worker_set_am_recv_handler(worker_.get(), &handler),
          "registering the UCX active message handler");

    // Steady-state parameter blocks, filled once (fields that vary are set per post).
    send_param_.op_attr_mask =
        UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_MEMORY_TYPE;
    send_param_.cb.send = &UcxBackend::send_callback;
    send_param_.memory_type = UCS_MEMORY_TYPE_HOST;
    flush_param_.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    flush_param_.cb.send = &UcxBackend::send_callback;
    recv_param_.op_attr_mask =
        UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_MEMORY_TYPE;
    recv_param_.cb.recv_am = &UcxBackend::recv_callback;
    recv_param_.memory_type = UCS_MEMORY_TYPE_HOST;

    describe_ = version_string() + " (not connected)";
  }

  ~UcxBackend() override {
    try {
      disconnect();
    } catch (const std::exception& e) {
      log_info(str_cat("ucx: error while closing: ", e.what()));
    }
    windows_.clear();  // before the context they are mapped on
  }

  UcxBackend(const UcxBackend&) = delete;
  UcxBackend& operator=(const UcxBackend&) = delete;

  std::string_view name() const override { return "ucx"; }
  std::string describe() const override {
    if (direct_windows_ == 0) return describe_;
    return str_cat(describe_, "; ", direct_windows_, " peer window",
                   direct_windows_ == 1 ? "" : "s", " mapped for direct puts");
  }

  void set_callbacks(AmCallback on_am, FailureCallback on_failure) override {
    on_am_ = std::move(on_am);
    on_failure_ = std::move(on_failure);
  }

  std::string address() override {
    require_open();
    ucp_address_t* raw = nullptr;
    std::size_t size = 0;
    check(ucp_worker_get_address(worker_.get(), &raw, &size), "getting the UCX worker address");
    const AddressPtr address(raw, AddressDeleter{worker_.get()});
    AddressHeader header;
    header.size = static_cast<std::uint32_t>(size);
    header.crc = crc32c(0, raw, size);
    std::string blob(sizeof header + size, '\0');
    std::memcpy(blob.data(), &header, sizeof header);
    std::memcpy(blob.data() + sizeof header, raw, size);
    return blob;
  }

  void connect(int rank, const std::vector<std::string>& addresses) override {
    require_open();
    if (connected_) fail("ucx: connect() called twice");
    const int size = static_cast<int>(addresses.size());
    if (rank < 0 || rank >= size) fail("ucx: rank ", rank, " outside 0..", size - 1);
    rank_ = rank;

    // All peers exist before anything progresses: messages may arrive during connect.
    peers_.reserve(size);
    for (int r = 0; r < size; ++r) {
      auto peer = std::make_unique<Peer>();
      peer->backend = this;
      peer->rank = r;
      peer->ready = r == rank;
      peers_.push_back(std::move(peer));
    }

    for (int r = 0; r < size; ++r) {
      const std::string_view blob = addresses[r];
      AddressHeader header;
      if (blob.size() < sizeof header) fail("ucx: rank ", r, "'s address is truncated");
      std::memcpy(&header, blob.data(), sizeof header);
      const std::string_view body = blob.substr(sizeof header);
      if (header.magic != kAddressMagic || header.size != body.size() ||
          header.crc != crc32c(0, body.data(), body.size())) {
        fail("ucx: rank ", r, "'s address is malformed (", blob.size(), " bytes)");
      }
      Peer& peer = *peers_[r];
      ucp_ep_params_t params{};
      params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE;
      params.address = reinterpret_cast<const ucp_address_t*>(body.data());
      if (r == rank) {
        params.err_mode = UCP_ERR_HANDLING_MODE_NONE;  // lets UCX use its "self" transport
      } else {
        params.field_mask |= UCP_EP_PARAM_FIELD_ERR_HANDLER;
        params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
        params.err_handler.cb = &UcxBackend::error_callback;
        params.err_handler.arg = &peer;
      }
      ucp_ep_h ep = nullptr;
      const ucs_status_t status = ucp_ep_create(worker_.get(), &params, &ep);
      if (status != UCS_OK) {
        fail("ucx: cannot create an endpoint to rank ", r, ": ", ucs_status_string(status));
      }
      peer.ep = EndpointPtr(ep, EndpointCloser{worker_.get()});
    }

    const auto deadline = Clock::now() + connect_timeout_;
    // 1. Flush every endpoint: completes the wireup with each peer.
    wait_all([&](Peer& peer) { return ucp_ep_flush_nbx(peer.ep.get(), &plain_param_); }, deadline,
             "connecting to");
    // 2. Tell every peer we are connected, and wait until every peer said so. Then no peer
    //    still needs this rank to progress to finish its own connect() (which matters when
    //    the caller does not progress right after connect, e.g. during a key exchange).
    hello_.assign(size, AmHeader{});  // a member: UCX reads it until the send completes
    wait_all(
        [&](Peer& peer) {
          AmHeader& h = hello_[peer.rank];
          h.source = static_cast<std::uint32_t>(rank_);
          h.magic = kReadyMagic;
          return ucp_am_send_nbx(peer.ep.get(), kAmId, &h, sizeof h, token_.data(), token_.size(),
                                 &plain_param_);
        },
        deadline, "handshaking with");
    while (!all_ready()) {
      ucp_worker_progress(worker_.get());
      check_peers_during_connect();
      if (Clock::now() > deadline) {
        fail("ucx: timed out after ", seconds(connect_timeout_), " s waiting for ",
             waiting_ranks([](const Peer& p) { return !p.ready; }), " to connect");
      }
    }
    rethrow_pending();
    connected_ = true;

    describe_ = describe_endpoints();
    log_debug(describe_);
  }

  std::string register_window(std::uint32_t id, std::span<std::byte> memory) override {
    LocalWindow& window = new_window(id);
    if (!memory.empty()) {  // a zero-length window maps nothing and has no key
      ucp_mem_map_params_t params{};
      params.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
      params.address = memory.data();
      params.length = memory.size();
      ucp_mem_h memh = nullptr;
      check(ucp_mem_map(context_.get(), &params, &memh),
            str_cat("registering window ", id, " (", memory.size(), " bytes)").c_str());
      window.memh = MemPtr(memh, MemDeleter{context_.get()});
    }
    window.memory = memory;
    return window_blob(id, window);
  }

  AllocatedWindow allocate_window(std::uint32_t id, std::size_t bytes) override {
    LocalWindow& window = new_window(id);
    window.allocated = true;
    if (bytes > 0) {
      // UCX allocates (UCX_ALLOC_PRIO: sysv or posix shared memory first), so the peers'
      // shared-memory transports can map the window and write into it directly. Not
      // NONBLOCK: the memory is zeroed (touched) right away anyway.
      ucp_mem_map_params_t params{};
      params.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH |
                          UCP_MEM_MAP_PARAM_FIELD_FLAGS;
      params.address = nullptr;
      params.length = bytes;
      params.flags = UCP_MEM_MAP_ALLOCATE;
      ucp_mem_h memh = nullptr;
      check(ucp_mem_map(context_.get(), &params, &memh),
            str_cat("allocating window ", id, " (", bytes, " bytes)").c_str());
      window.memh = MemPtr(memh, MemDeleter{context_.get()});
      ucp_mem_attr_t attr{};
      attr.field_mask = UCP_MEM_ATTR_FIELD_ADDRESS | UCP_MEM_ATTR_FIELD_LENGTH;
      check(ucp_mem_query(memh, &attr), "querying an allocated window");
      const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
      if (attr.address == nullptr || attr.length < bytes ||
          reinterpret_cast<std::uintptr_t>(attr.address) % page != 0) {
        fail("ucx: window ", id, " was allocated at ", attr.address, " with ", attr.length,
             " bytes (wanted ", bytes, " page-aligned bytes)");
      }
      window.memory = {static_cast<std::byte*>(attr.address), bytes};
      // Not every UCX allocation method returns zeroed memory (the heap fallback does not).
      std::memset(window.memory.data(), 0, bytes);
    }
    return {window.memory, window_blob(id, window)};
  }

  void add_remote_window(int peer_rank, std::uint32_t id, std::size_t size,
                         std::string_view blob) override {
    Peer& peer = peer_at(peer_rank);
    if (id >= kMaxWindows) fail("ucx: window id ", id, " too large");
    WindowHeader header;
    if (blob.size() < sizeof header) {
      fail("ucx: rank ", peer_rank, "'s key for window ", id, " is truncated (", blob.size(),
           " bytes)");
    }
    std::memcpy(&header, blob.data(), sizeof header);
    const std::string_view rkey_bytes = blob.substr(sizeof header);
    if (header.magic != kWindowMagic || header.rkey_size != rkey_bytes.size() ||
        header.reserved != 0 || header.crc != window_crc(header, rkey_bytes.data())) {
      fail("ucx: rank ", peer_rank, "'s key for window ", id, " is malformed (", blob.size(),
           " bytes)");
    }
    if (header.size != size) {
      fail("ucx: rank ", peer_rank, "'s window ", id, " has ", header.size, " bytes, expected ",
           size);
    }
    if ((size > 0) != (header.rkey_size > 0) || header.address + size < header.address) {
      fail("ucx: rank ", peer_rank, "'s key for window ", id, " is inconsistent");
    }

    RemoteWindow window;
    window.present = true;
    window.base = header.address;
    window.size = size;
    if (size > 0) {
      // UCX parses the packed key without a length: hand it a zero-padded copy so a
      // corrupt key cannot make it read past our buffer.
      std::vector<std::byte> padded(rkey_bytes.size() + kRkeyPadding);
      std::memcpy(padded.data(), rkey_bytes.data(), rkey_bytes.size());
      ucp_rkey_h rkey = nullptr;
      const ucs_status_t status = ucp_ep_rkey_unpack(peer.ep.get(), padded.data(), &rkey);
      if (status != UCS_OK) {
        fail("ucx: cannot unpack rank ", peer_rank, "'s key for window ", id, ": ",
             ucs_status_string(status));
      }
      window.rkey.reset(rkey);
      window.direct = map_directly(window);
      if (window.direct != nullptr) ++direct_windows_;
    }
    if (peer.windows.size() <= id) peer.windows.resize(id + 1);
    peer.windows[id] = std::move(window);
  }

  void release_window(std::uint32_t id) override {
    if (id < windows_.size()) windows_[id] = LocalWindow{};  // unmaps (and frees if allocated)
  }

  void remove_remote_window(int peer_rank, std::uint32_t id) override {
    Peer& peer = peer_at(peer_rank);
    if (id >= peer.windows.size()) return;
    if (peer.windows[id].direct != nullptr) --direct_windows_;
    peer.windows[id] = RemoteWindow{};  // destroys the rkey (and its mapping)
  }

  std::byte* direct_window(int peer_rank, std::uint32_t id) override {
    Peer& peer = peer_at(peer_rank);
    return id < peer.windows.size() ? peer.windows[id].direct : nullptr;
  }

  void post_am(int peer_rank, std::uint16_t handler, std::span<const std::byte> bytes,
               Completion* done) override {
    Peer& peer = peer_at(peer_rank);
    if (peer.failed) return fail_completion(done, peer.failure);
    Op* op = acquire_op(peer, done, OpKind::kAm);
    op->header.source = static_cast<std::uint32_t>(rank_);
    op->header.handler = handler;
    op->header.magic = kAmMagic;
    op->header.seq = peer.send_seq++;
    op->generation = peer.generation();
    ++peer.am_in_flight.back();  // before the call: its callback may run inside it
    send_param_.user_data = op;
    const ucs_status_ptr_t status =
        ucp_am_send_nbx(peer.ep.get(), kAmId, &op->header, sizeof op->header, bytes.data(),
                        bytes.size(), &send_param_);
    // A send refused at once was never sent: give its sequence number back.
    if (UCS_PTR_IS_ERR(status)) --peer.send_seq;
    posted(op, status);
    rethrow_pending();
  }

  void post_put(int peer_rank, std::uint32_t window_id, std::uint64_t offset,
                std::span<const std::byte> bytes, Completion* done) override {
    Peer& peer = peer_at(peer_rank);
    if (window_id >= peer.windows.size() || !peer.windows[window_id].present) {
      fail("ucx: put to rank ", peer_rank, "'s unknown window ", window_id);
    }
    const RemoteWindow& window = peer.windows[window_id];
    if (offset > window.size || bytes.size() > window.size - offset) {
      fail("ucx: put of ", bytes.size(), " bytes at offset ", offset, " outside rank ", peer_rank,
           "'s window ", window_id, " (", window.size, " bytes)");
    }
    if (peer.failed) return fail_completion(done, peer.failure);
    if (bytes.empty()) return complete_now(done);
    Op* op = acquire_op(peer, done, OpKind::kPut);
    send_param_.user_data = op;
    posted(op, ucp_put_nbx(peer.ep.get(), bytes.data(), bytes.size(), window.base + offset,
                           window.rkey.get(), &send_param_));
    rethrow_pending();
  }

  void fence(int peer_rank) override {
    peer_at(peer_rank);
    // Orders all later operations of this worker after all earlier ones (covers the peer).
    const ucs_status_t status = ucp_worker_fence(worker_.get());
    if (status != UCS_OK) fail("ucx: fence failed: ", ucs_status_string(status));
  }

  void post_flush(int peer_rank, Completion* done) override {
    Peer& peer = peer_at(peer_rank);
    if (peer.failed) return fail_completion(done, peer.failure);
    Op* op = acquire_op(peer, done, OpKind::kFlush);
    op->generation = peer.generation();
    peer.am_in_flight.push_back(0);  // later sends belong to the next generation
    retire_generations(peer);
    flush_param_.user_data = op;
    posted(op, ucp_ep_flush_nbx(peer.ep.get(), &flush_param_));
    rethrow_pending();
  }

  bool progress() override {
    if (!connected_ || closed_) return false;
    delivering_ = true;
    bool did = false;
    try {
      if (held_ready_) did = deliver_held();
      did = ucp_worker_progress(worker_.get()) != 0 || did;
      if (held_ready_) did = deliver_held() || did;
    } catch (...) {
      delivering_ = false;
      throw;
    }
    delivering_ = false;
    rethrow_pending();
    return did;
  }

  int event_fd() override {
    if (!connected_ || closed_) return -1;
    if (event_fd_ < 0) check(ucp_worker_get_efd(worker_.get(), &event_fd_), "getting the event fd");
    return event_fd_;
  }

  bool arm() override {
    if (!connected_ || closed_ || held_ready_) return false;
    const ucs_status_t status = ucp_worker_arm(worker_.get());
    if (status == UCS_ERR_BUSY) return false;
    check(status, "arming the UCX worker");
    return true;
  }

  void disconnect() override {
    if (closed_) return;
    closed_ = true;  // from here on callbacks neither deliver, report nor touch Completions
    if (worker_ != nullptr) {
      const auto deadline = Clock::now() + kCloseTimeout;
      // Say goodbye, so peers do not report this rank's endpoints closing as a failure.
      std::vector<std::pair<Peer*, ucs_status_ptr_t>> byes;
      bye_.assign(peers_.size(), AmHeader{});
      for (auto& peer : peers_) {
        if (peer->ep == nullptr || peer->failed || peer->rank == rank_) continue;
        AmHeader& h = bye_[peer->rank];
        h.source = static_cast<std::uint32_t>(rank_);
        h.magic = kByeMagic;
        byes.emplace_back(peer.get(), ucp_am_send_nbx(peer->ep.get(), kAmId, &h, sizeof h, nullptr,
                                                      0, &plain_param_));
      }
      // Flush every live endpoint (delivers the goodbyes), so that no operation still uses
      // the rkeys destroyed next.
      std::vector<std::pair<Peer*, ucs_status_ptr_t>> requests;
      for (auto& peer : peers_) {
        if (peer->ep == nullptr || peer->failed) continue;
        requests.emplace_back(peer.get(), ucp_ep_flush_nbx(peer->ep.get(), &plain_param_));
      }
      for (auto& [peer, request] : byes) {
        if (wait_request(worker_.get(), request, deadline) != UCS_OK) peer->failed = true;
      }
      for (auto& [peer, request] : requests) {
        if (wait_request(worker_.get(), request, deadline) != UCS_OK) peer->failed = true;
      }
      for (auto& peer : peers_) peer->windows.clear();  // rkeys before their endpoints
      // Close: flush mode for healthy peers, force for broken ones.
      requests.clear();
      for (auto& peer : peers_) {
        if (peer->ep == nullptr) continue;
        ucp_request_param_t param{};
        param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
        param.flags = peer->failed ? UCP_EP_CLOSE_FLAG_FORCE : 0;
        requests.emplace_back(peer.get(), ucp_ep_close_nbx(peer->ep.release(), &param));
      }
      for (auto& [peer, request] : requests) {
        const ucs_status_t status = wait_request(worker_.get(), request, deadline);
        if (status != UCS_OK && status != UCS_ERR_CANCELED && !peer->failed) {
          log_debug(str_cat("ucx: closing the endpoint to rank ", peer->rank, ": ",
                            ucs_status_string(status)));
        }
      }
      for (auto& peer : peers_) {  // dropped: their Completions are not touched any more
        for (Op* flush : peer->waiting_flushes) free_ops_.push_back(flush);
        peer->waiting_flushes.clear();
      }
      // Let cancelled operations run their callbacks before the pool goes away.
      while (ops_in_flight() > 0 && Clock::now() < deadline) ucp_worker_progress(worker_.get());
    }
    // Teardown order: rkeys (done), endpoints (done), mem handles, worker. Allocated windows
    // stay mapped (their memory is the owner's until the backend is destroyed), and with them
    // the context.
    for (LocalWindow& window : windows_) {
      if (!window.allocated) window = LocalWindow{};
    }
    peers_.clear();
    worker_.reset();
    pending_error_ = nullptr;
  }

 private:
  // ---- UCX callbacks (C linkage-compatible statics; never throw) ----------------------

  static void send_callback(void* request, ucs_status_t status, void* user_data) {
    auto* op = static_cast<Op*>(user_data);
    op->backend->guarded([&] { op->backend->finish(op, status); });
    ucp_request_free(request);
  }

  static void recv_callback(void* request, ucs_status_t status, std::size_t, void* user_data) {
    auto* op = static_cast<Op*>(user_data);
    op->backend->guarded([&] { op->backend->finish(op, status); });
    ucp_request_free(request);
  }

  static void error_callback(void* arg, ucp_ep_h, ucs_status_t status) {
    auto* peer = static_cast<Peer*>(arg);
    peer->backend->guarded([&] {
      peer->backend->report_failure(*peer, str_cat("ucx: connection to rank ", peer->rank,
                                                   " failed: ", ucs_status_string(status)));
    });
  }

  static ucs_status_t am_callback(void* arg, const void* header, std::size_t header_length,
                                  void* data, std::size_t length,
                                  const ucp_am_recv_param_t* param) {
    auto* self = static_cast<UcxBackend*>(arg);
    const bool rndv = (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0;
    ucs_status_t result = UCS_OK;
    bool handed_over = false;  // ucp_am_recv_data_nbx took the rendezvous descriptor
    if (!self->guarded([&] {
          result = self->arrived(header, header_length, data, length, rndv, handed_over);
        })) {
      result = handed_over ? UCS_INPROGRESS : rndv ? UCS_ERR_REJECTED : UCS_OK;
    }
    return result;
  }

  /// Runs f; an exception is kept for the calling Backend method to rethrow (it must not
  /// unwind through UCX's C frames). Returns false if f threw.
  template <typename F>
  bool guarded(F&& f) noexcept {
    try {
      f();
      return true;
    } catch (...) {
      if (pending_error_ == nullptr) pending_error_ = std::current_exception();
      return false;
    }
  }

  void rethrow_pending() {
    if (pending_error_ != nullptr) std::rethrow_exception(std::exchange(pending_error_, nullptr));
  }

  // ---- active message receipt ----------------------------------------------------------

  ucs_status_t arrived(const void* header_bytes, std::size_t header_length, void* data,
                       std::size_t length, bool rndv, bool& handed_over) {
    const ucs_status_t reject = rndv ? UCS_ERR_REJECTED : UCS_OK;
    AmHeader header;
    if (header_length != sizeof header) return unattributed("header length", reject);
    std::memcpy(&header, header_bytes, sizeof header);
    if (header.source >= peers_.size()) return unattributed("source rank", reject);
    Peer& peer = *peers_[header.source];
    if (closed_ || peer.failed) return reject;

    if (header.magic == kReadyMagic) {  // the handshake carries the job token
      if (!rndv && equal_secret({static_cast<const char*>(data), length}, token_)) {
        peer.ready = true;
      } else {
        report_failure(
            peer, str_cat("ucx: rank ", peer.rank, "'s handshake does not carry this job's token"));
      }
      return reject;
    }
    if (header.magic == kByeMagic && !rndv && length == 0) {
      peer.departed = true;
      return UCS_OK;
    }
    if (header.magic != kAmMagic || header.seq < peer.recv_seq ||
        header.seq - peer.recv_seq >= kMaxReorder || length > kMaxAmBytes ||
        peer.held.contains(header.seq)) {
      report_failure(
          peer, str_cat("ucx: malformed or out-of-sequence message from rank ", peer.rank, " (seq ",
                        header.seq, ", expected ", peer.recv_seq, ", ", length, " bytes)"));
      return reject;
    }

    // Fast path: the next message in order, delivered straight from UCX's buffer.
    if (!rndv && header.seq == peer.recv_seq && delivering_) {
      ++peer.recv_seq;
      call_on_am(peer, header.handler, {static_cast<const std::byte*>(data), length});
      if (!peer.held.empty()) deliver(peer);
      return UCS_OK;
    }

    // Hold it until its turn (early, outside progress(), or rendezvous still receiving).
    std::unique_ptr<std::byte[]> bytes;
    try {
      bytes = std::make_unique_for_overwrite<std::byte[]>(length);
    } catch (const std::bad_alloc&) {
      report_failure(
          peer, str_cat("ucx: out of memory receiving ", length, " bytes from rank ", peer.rank));
      return reject;
    }
    Incoming& in = peer.held[header.seq];
    in.handler = header.handler;
    in.size = length;
    in.bytes = std::move(bytes);
    if (!rndv) {
      if (length > 0) std::memcpy(in.bytes.get(), data, length);
      in.complete = true;
      held_ready_ = true;
      return UCS_OK;
    }
    Op* op = acquire_op(peer, nullptr, OpKind::kRecv);
    op->seq = header.seq;
    recv_param_.user_data = op;
    handed_over = true;
    const ucs_status_ptr_t status =
        ucp_am_recv_data_nbx(worker_.get(), data, in.bytes.get(), length, &recv_param_);
    posted(op, status);
    return UCS_INPROGRESS;  // UCX owns the descriptor once ucp_am_recv_data_nbx was called
  }

  ucs_status_t unattributed(const char* what, ucs_status_t result) {
    // No trustworthy source rank: nobody to fail. Log once and drop.
    if (!warned_unattributed_) {
      warned_unattributed_ = true;
      log_info(str_cat("ucx: dropped an active message with a malformed ", what));
    }
    return result;
  }

  /// Delivers peer's held messages that are next in sequence and complete.
  void deliver(Peer& peer) {
    while (!peer.failed && !closed_ && !peer.held.empty()) {
      auto it = peer.held.begin();
      if (it->first != peer.recv_seq || !it->second.complete) return;
      const auto node = peer.held.extract(it);  // owned here: on_am may post more
      ++peer.recv_seq;
      const Incoming& in = node.mapped();
      call_on_am(peer, in.handler, {in.bytes.get(), in.size});
    }
  }

  void call_on_am(Peer& peer, std::uint16_t handler, std::span<const std::byte> bytes) {
    try {
      on_am_(peer.rank, handler, bytes);
    } catch (...) {
      if (!peer.held.empty()) held_ready_ = true;  // the next progress() goes on from here
      throw;
    }
  }

  bool deliver_held() {
    held_ready_ = false;
    bool did = false;
    for (auto& peer : peers_) {
      const std::uint64_t before = peer->recv_seq;
      deliver(*peer);
      did = did || peer->recv_seq != before;
    }
    return did;
  }

  // ---- operations ----------------------------------------------------------------------

  Op* acquire_op(Peer& peer, Completion* done, OpKind kind) {
    if (free_ops_.empty()) {
      ops_.push_back(std::make_unique<Op>());
      free_ops_.push_back(ops_.back().get());
    }
    Op* op = free_ops_.back();
    free_ops_.pop_back();
    op->backend = this;
    op->peer = &peer;
    op->done = done;
    op->kind = kind;
    return op;
  }

  std::size_t ops_in_flight() const { return ops_.size() - free_ops_.size(); }

  /// After an nbx call: completes op now if UCX finished (NULL) or refused (error) at once;
  /// otherwise its callback will (and may already have: op must not be touched then).
  void posted(Op* op, ucs_status_ptr_t status) {
    if (status == nullptr) {
      finish(op, UCS_OK);
    } else if (UCS_PTR_IS_ERR(status)) {
      finish(op, UCS_PTR_STATUS(status));
    }
  }

  void finish(Op* op, ucs_status_t status) {
    Peer& peer = *op->peer;
    if (op->kind == OpKind::kFlush && status == UCS_OK && !closed_ &&
        op->generation >= peer.first_generation) {
      op->status = status;  // earlier sends still running: complete with the last of them
      peer.waiting_flushes.push_back(op);
      return;
    }
    Completion* done = op->done;
    const OpKind kind = op->kind;
    const std::uint64_t seq = op->seq;
    const std::uint64_t generation = op->generation;
    free_ops_.push_back(op);  // released first: nothing below can leak it

    if (kind == OpKind::kAm) am_finished(peer, generation);

    if (kind == OpKind::kRecv) {
      const auto it = peer.held.find(seq);
      if (it == peer.held.end()) return;
      if (status != UCS_OK) {
        peer.held.erase(it);
        report_failure(peer, str_cat("ucx: receiving a message from rank ", peer.rank,
                                     " failed: ", ucs_status_string(status)));
        return;
      }
      it->second.complete = true;
      if (delivering_) {
        deliver(peer);
      } else {
        held_ready_ = true;
      }
      return;
    }
    if (closed_ || done == nullptr) return;  // dropped by disconnect()
    // A flush is only as good as the messages before it.
    if (kind == OpKind::kFlush && status == UCS_OK && peer.failed) {
      return fail_completion(done, peer.failure);
    }
    if (status == UCS_OK) return complete_now(done);
    static constexpr const char* kWhat[] = {"message", "put", "flush"};
    std::string why = str_cat("ucx: ", kWhat[static_cast<int>(kind)], " to rank ", peer.rank,
                              " failed: ", ucs_status_string(status));
    // A lost message breaks the peer's in-order stream for good.
    if (kind == OpKind::kAm) report_failure(peer, why);
    fail_completion(done, std::move(why));
  }

  /// One send of `generation` finished: retire drained generations, release their flushes.
  void am_finished(Peer& peer, std::uint64_t generation) {
    --peer.am_in_flight[generation - peer.first_generation];
    if (!retire_generations(peer) || peer.waiting_flushes.empty()) return;
    std::vector<Op*> ready;
    std::erase_if(peer.waiting_flushes, [&](Op* flush) {
      if (flush->generation >= peer.first_generation) return false;
      ready.push_back(flush);
      return true;
    });
    for (Op* flush : ready) finish(flush, flush->status);
  }

  /// Drops finished generations (never the current one). Returns whether any was dropped.
  static bool retire_generations(Peer& peer) {
    bool retired = false;
    while (peer.am_in_flight.size() > 1 && peer.am_in_flight.front() == 0) {
      peer.am_in_flight.pop_front();
      ++peer.first_generation;
      retired = true;
    }
    return retired;
  }

  static void complete_now(Completion* done) { done->done = true; }

  static void fail_completion(Completion* done, std::string why) {
    done->failed = true;
    done->error = std::move(why);
    done->done = true;
  }

  void report_failure(Peer& peer, std::string why) {
    if (peer.failed) return;
    peer.failed = true;
    if (peer.departed) {
      peer.failure = str_cat("ucx: rank ", peer.rank, " has disconnected");
      return;
    }
    peer.failure = std::move(why);
    if (closed_) return;
    if (on_failure_) on_failure_(peer.rank, peer.failure);
  }

  // ---- helpers -------------------------------------------------------------------------

  /// The local address of a peer's window when this process can map it (shared memory and
  /// the peer allocated it with allocate_window()), else null.
  static std::byte* map_directly(const RemoteWindow& window) {
    void* first = nullptr;
    void* last = nullptr;
    if (ucp_rkey_ptr(window.rkey.get(), window.base, &first) != UCS_OK ||
        ucp_rkey_ptr(window.rkey.get(), window.base + window.size - 1, &last) != UCS_OK ||
        static_cast<std::byte*>(last) - static_cast<std::byte*>(first) !=
            static_cast<std::ptrdiff_t>(window.size - 1)) {
      return nullptr;
    }
    return static_cast<std::byte*>(first);
  }

  LocalWindow& new_window(std::uint32_t id) {
    require_open();
    if (id >= kMaxWindows) fail("ucx: window id ", id, " too large");
    if (windows_.size() <= id) windows_.resize(id + 1);
    LocalWindow& window = windows_[id];
    if (window.present) fail("ucx: window ", id, " registered twice");
    window.present = true;
    return window;
  }

  /// The blob peers need to put into a mapped window: WindowHeader and packed rkey.
  std::string window_blob(std::uint32_t id, const LocalWindow& window) const {
    WindowHeader header;
    header.size = window.memory.size();
    RkeyBufferPtr rkey;
    std::size_t rkey_size = 0;
    if (window.memh != nullptr) {
      void* buffer = nullptr;
      check(ucp_rkey_pack(context_.get(), window.memh.get(), &buffer, &rkey_size),
            str_cat("packing the key of window ", id).c_str());
      rkey.reset(buffer);
      header.address = reinterpret_cast<std::uintptr_t>(window.memory.data());
      header.rkey_size = static_cast<std::uint32_t>(rkey_size);
    }
    header.crc = window_crc(header, rkey.get());
    std::string blob(sizeof header + rkey_size, '\0');
    std::memcpy(blob.data(), &header, sizeof header);
    if (rkey_size > 0) std::memcpy(blob.data() + sizeof header, rkey.get(), rkey_size);
    return blob;
  }

  void require_open() const {
    if (closed_) fail("ucx: backend used after disconnect()");
  }

  Peer& peer_at(int rank) {
    require_open();
    if (!connected_) fail("ucx: backend used before connect()");
    if (rank < 0 || rank >= static_cast<int>(peers_.size())) {
      fail("ucx: rank ", rank, " outside 0..", peers_.size() - 1);
    }
    return *peers_[rank];
  }

  static void check(ucs_status_t status, const char* what) {
    if (status != UCS_OK) fail("ucx: ", what, " failed: ", ucs_status_string(status));
  }

  bool all_ready() const {
    return std::all_of(peers_.begin(), peers_.end(), [](const auto& p) { return p->ready; });
  }

  template <typename Pred>
  std::string waiting_ranks(Pred pred) const {
    std::string out;
    int count = 0;
    for (const auto& peer : peers_) {
      if (!pred(*peer)) continue;
      out += (count++ == 0 ? "" : ", ") + std::to_string(peer->rank);
    }
    return (count == 1 ? "rank " : "ranks ") + out;
  }

  void check_peers_during_connect() {
    rethrow_pending();
    for (const auto& peer : peers_) {
      if (peer->failed) fail("ucx: connecting to rank ", peer->rank, ": ", peer->failure);
    }
  }

  /// Starts post(peer) for every other rank and waits for all of them (progressing).
  template <typename Post>
  void wait_all(Post post, Clock::time_point deadline, const char* what) {
    std::vector<std::pair<Peer*, ucs_status_ptr_t>> requests;
    struct Releaser {  // frees every request still held, on every exit path
      std::vector<std::pair<Peer*, ucs_status_ptr_t>>& requests;
      ~Releaser() {
        for (auto& r : requests) ucp_request_free(r.second);
      }
    } releaser{requests};
    for (auto& peer : peers_) {
      if (peer->rank == rank_) continue;
      const ucs_status_ptr_t request = post(*peer);
      if (UCS_PTR_IS_ERR(request)) {
        fail("ucx: ", what, " rank ", peer->rank, ": ", ucs_status_string(UCS_PTR_STATUS(request)));
      }
      if (request != nullptr) requests.emplace_back(peer.get(), request);
    }
    while (!requests.empty()) {
      ucp_worker_progress(worker_.get());
      for (std::size_t i = 0; i < requests.size();) {
        const ucs_status_t status = ucp_request_check_status(requests[i].second);
        if (status == UCS_INPROGRESS) {
          ++i;
          continue;
        }
        ucp_request_free(requests[i].second);
        const int rank = requests[i].first->rank;
        requests.erase(requests.begin() + static_cast<std::ptrdiff_t>(i));
        if (status != UCS_OK) fail("ucx: ", what, " rank ", rank, ": ", ucs_status_string(status));
      }
      check_peers_during_connect();
      if (!requests.empty() && Clock::now() > deadline) {
        std::set<int> ranks;
        for (auto& r : requests) ranks.insert(r.first->rank);
        fail("ucx: timed out after ", seconds(connect_timeout_), " s ", what, " ",
             waiting_ranks([&](const Peer& p) { return ranks.contains(p.rank); }));
      }
    }
  }

  /// "ucx 1.13.1: posix/memory, sysv/memory" from the lanes of the endpoints to other ranks
  /// (to this rank itself when it is alone).
  std::string describe_endpoints() const {
    std::set<std::string> transports;
    for (const auto& peer : peers_) {
      if (peer->rank == rank_ && peers_.size() > 1) continue;
      char* text = nullptr;
      std::size_t size = 0;
      FILE* raw = open_memstream(&text, &size);
      if (raw == nullptr) continue;
      {
        const std::unique_ptr<FILE, MemstreamCloser> stream(raw);
        ucp_ep_print_info(peer->ep.get(), stream.get());
      }  // fclose publishes text/size
      const std::unique_ptr<char, FreeDeleter> owned(text);
      // Lines look like "#   lane[0]:  3:sysv/memory.0 md[2]  -> ...".
      const std::string_view all(text, size);
      for (std::size_t pos = all.find("lane["); pos != std::string_view::npos;
           pos = all.find("lane[", pos + 1)) {
        std::size_t start = all.find("]:", pos);
        if (start == std::string_view::npos) break;
        start = all.find_first_not_of(' ', start + 2);
        const std::size_t colon = all.find(':', start);
        const std::size_t end = all.find_first_of(" \n", start);
        if (colon == std::string_view::npos || end == std::string_view::npos || colon > end) {
          continue;
        }
        std::string_view tl = all.substr(colon + 1, end - colon - 1);  // "sysv/memory.0"
        if (const std::size_t dot = tl.rfind('.'); dot != std::string_view::npos) {
          tl = tl.substr(0, dot);
        }
        transports.emplace(tl);
      }
    }
    std::string out = version_string() + ":";
    const char* sep = " ";
    for (const auto& t : transports) {
      out += sep + t;
      sep = ", ";
    }
    if (transports.empty()) out += " (transports unknown)";
    return out;
  }

  ContextPtr context_;
  WorkerPtr worker_;  // after context_: destroyed before it
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<LocalWindow> windows_;
  std::vector<std::unique_ptr<Op>> ops_;  // the pool; free_ops_ lists the idle ones
  std::vector<Op*> free_ops_;

  ucp_request_param_t send_param_{};
  ucp_request_param_t flush_param_{};
  ucp_request_param_t recv_param_{};
  ucp_request_param_t plain_param_{};  // no callback: connect/disconnect poll requests
  std::vector<AmHeader> hello_;        // connect()'s handshake headers (the token follows)
  std::vector<AmHeader> bye_;          // disconnect()'s goodbye headers

  AmCallback on_am_;
  FailureCallback on_failure_;
  std::string token_;  // the job token: the handshake presents it
  std::chrono::milliseconds connect_timeout_;
  std::exception_ptr pending_error_;
  std::string describe_;
  int rank_ = 0;
  std::size_t direct_windows_ = 0;  // peer windows mapped into this process
  bool connected_ = false;
  bool closed_ = false;
  int event_fd_ = -1;        // the worker's, owned by UCX
  bool delivering_ = false;  // inside progress(): AM callbacks may call on_am_
  bool held_ready_ = false;  // some held message may now be deliverable
  bool warned_unattributed_ = false;
};

}  // namespace

std::unique_ptr<Backend> make_ucx_backend(const BackendOptions& options) {
  return std::make_unique<UcxBackend>(options);
}

}  // namespace atl::detail
