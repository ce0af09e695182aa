// Little-endian encoding of control messages, and a reader that validates every length
// against the bytes it was given (bytes from the network are untrusted).
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "atoll/common/error.hpp"

namespace atl::detail {

static_assert(std::endian::native == std::endian::little, "wire encoding assumes little-endian");

class WireWriter {
 public:
  void u8(std::uint8_t v) { raw(&v, 1); }
  void u16(std::uint16_t v) { raw(&v, 2); }
  void u32(std::uint32_t v) { raw(&v, 4); }
  void u64(std::uint64_t v) { raw(&v, 8); }
  void bytes(std::span<const std::byte> b) { raw(b.data(), b.size()); }
  /// A u32 length, then the bytes.
  void blob(std::string_view b) {
    u32(static_cast<std::uint32_t>(b.size()));
    raw(b.data(), b.size());
  }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class WireReader {
 public:
  /// `what` names the message in errors ("window keys of rank 3").
  WireReader(std::string_view bytes, std::string what) : in_(bytes), what_(std::move(what)) {}
  WireReader(std::span<const std::byte> bytes, std::string what)
      : in_(reinterpret_cast<const char*>(bytes.data()), bytes.size()), what_(std::move(what)) {}

  std::uint8_t u8() { return get<std::uint8_t>(); }
  std::uint16_t u16() { return get<std::uint16_t>(); }
  std::uint32_t u32() { return get<std::uint32_t>(); }
  std::uint64_t u64() { return get<std::uint64_t>(); }
  std::string_view blob() {
    std::uint32_t n = u32();
    return take(n);
  }
  std::string_view take(std::size_t n) {
    if (n > in_.size() - pos_) {
      fail(what_, ": truncated (needs ", n, " more bytes, has ", in_.size() - pos_, ")");
    }
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  std::size_t remaining() const { return in_.size() - pos_; }
  void expect_end() const {
    if (pos_ != in_.size()) fail(what_, ": ", in_.size() - pos_, " unexpected trailing bytes");
  }

 private:
  template <typename T>
  T get() {
    std::string_view b = take(sizeof(T));
    T v;
    std::memcpy(&v, b.data(), sizeof(T));
    return v;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string what_;
};

/// Compares in time independent of where the bytes differ (for the job token, a secret).
inline bool equal_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

/// Copies bytes so that a reader who sees the final (up to) 8 bytes with an acquire load
/// also sees everything before them: the rest first, a release fence, then the tail. Rings
/// rely on this for puts applied by software (TCP, puts to self).
inline void ordered_copy(std::byte* dst, std::span<const std::byte> src) {
  std::size_t n = src.size();
  std::size_t tail = n < 8 ? n : 8;
  std::memcpy(dst, src.data(), n - tail);
  std::byte* last = dst + n - tail;
  if (tail == 8 && reinterpret_cast<std::uintptr_t>(last) % 8 == 0) {
    std::uint64_t word;
    std::memcpy(&word, src.data() + n - 8, 8);
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(last))
        .store(word, std::memory_order_release);
  } else {
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(last, src.data() + n - tail, tail);
  }
}

}  // namespace atl::detail
