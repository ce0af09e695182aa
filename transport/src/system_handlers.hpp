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
inline constexpr HandlerId kCloseHandler = kMaxUserHandler + 6;   ///< a peer closed a channel
/// Ids from here on are handed out by Transport::add_system_handler(handler) (rings, ...).
inline constexpr HandlerId kFirstDynamicHandler = kMaxUserHandler + 16;
inline constexpr HandlerId kHandlerCount = kMaxUserHandler + 64;
/// Transport::open_handler() hands out ids from here on, in order, never reusing one.
inline constexpr HandlerId kFirstOpenedHandler = kHandlerCount;
/// Messages for ids at most this far beyond the next one this rank opens are kept until it
/// opens them (a peer may run ahead); beyond that they fail the sender.
inline constexpr HandlerId kMaxOpenAhead = 1024;

}  // namespace atl::detail
