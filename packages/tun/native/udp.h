// The UDP socket side of the binding (udp.cc): openUdp() and the peer record of udp-mode queues.
#pragma once

#include <napi.h>

namespace tun {

// A peer: 16 bytes of IPv6 address (IPv4 as ::ffff:a.b.c.d), 2 of port (network order), 2 zero.
constexpr int kPeerRecordSize = 20;

// openUdp(address, port, v6Only, receiveBufferBytes) -> { fd, family, port }: a bound non-blocking
// datagram socket, or throws an Error carrying `errno` and `step`.
Napi::Value OpenUdp(const Napi::CallbackInfo& info);

}  // namespace tun
