// Handler ids the transport layer uses for itself (above the user range).
#pragma once

#include <cstdint>

#include "atoll/transport/transport.hpp"

namespace atl::detail {

inline constexpr HandlerId kHeartbeatHandler = kMaxUserHandler + 1;
inline constexpr HandlerId kAbortHandler = kMaxUserHandler + 2;
inline constexpr HandlerId kCollectiveHandler = kMaxUserHandler + 3;
inline constexpr HandlerId kStopHandler = kMaxUserHandler + 4;
inline constexpr HandlerId kWindowHandler = kMaxUserHandler + 5;  ///< keys of windows after start
/// Ids from here on are handed out by Transport::add_system_handler(handler) (rings, ...).
inline constexpr HandlerId kFirstDynamicHandler = kMaxUserHandler + 16;
inline constexpr HandlerId kHandlerCount = kMaxUserHandler + 64;

}  // namespace atl::detail
