// The UDP half of the binding: openUdp() makes a bound, non-blocking datagram socket, and a TunQueue
// in udp mode reads it with recvmmsg(2) (many datagrams and their sources per system call) and sends
// a batch to one peer with sendmmsg(2). A peer is a 20-byte record: the IPv6 address (an IPv4 one
// mapped, ::ffff:a.b.c.d), the port in network byte order, two zero bytes.
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "counters.h"
#include "queue.h"
#include "typed_array.h"

namespace tun {

namespace {

const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void WritePeer(const struct sockaddr_storage& name, uint8_t* record) {
  memset(record, 0, kPeerRecordSize);
  if (name.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const struct sockaddr_in*>(&name);
    memcpy(record, kMappedPrefix, 12);
    memcpy(record + 12, &in->sin_addr, 4);
    memcpy(record + 16, &in->sin_port, 2);
  } else if (name.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(&name);
    memcpy(record, &in6->sin6_addr, 16);
    memcpy(record + 16, &in6->sin6_port, 2);
  }
}

// The destination for a socket of `family`; false when an IPv4 socket is asked to reach an IPv6 peer.
bool ReadPeer(const uint8_t* record, int family, struct sockaddr_storage* name, socklen_t* length) {
  memset(name, 0, sizeof(*name));
  bool mapped = memcmp(record, kMappedPrefix, 12) == 0;
  if (family == AF_INET) {
    if (!mapped) return false;
    auto* in = reinterpret_cast<struct sockaddr_in*>(name);
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, record + 12, 4);
    memcpy(&in->sin_port, record + 16, 2);
    *length = sizeof(*in);
    return true;
  }
  auto* in6 = reinterpret_cast<struct sockaddr_in6*>(name);
  in6->sin6_family = AF_INET6;
  memcpy(&in6->sin6_addr, record, 16);
  memcpy(&in6->sin6_port, record + 16, 2);
  *length = sizeof(*in6);
  return true;
}

int SocketFamily(int fd) {
  struct sockaddr_storage name;
  socklen_t length = sizeof(name);
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&name), &length) != 0) return AF_INET6;
  return name.ss_family;
}

Napi::Value Fail(Napi::Env env, int fd, const char* step) {
  int error = errno;
  if (fd >= 0) close(fd);
  Napi::Error failure = Napi::Error::New(env, std::string(step) + " failed: " + strerror(error));
  failure.Set("errno", Napi::Number::New(env, error));
  failure.Set("step", Napi::String::New(env, step));
  failure.ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace

Napi::Value OpenUdp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "openUdp(address, port, v6Only, receiveBufferBytes) expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string address = info[0].As<Napi::String>().Utf8Value();
  uint32_t port = info[1].As<Napi::Number>().Uint32Value();
  bool v6_only = info[2].ToBoolean().Value();
  int receive_buffer = info[3].As<Napi::Number>().Int32Value();
  struct sockaddr_storage name;
  memset(&name, 0, sizeof(name));
  socklen_t length;
  int family;
  auto* in = reinterpret_cast<struct sockaddr_in*>(&name);
  auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&name);
  if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1) {
    family = AF_INET;
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*in);
  } else if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
    family = AF_INET6;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*in6);
  } else {
    Napi::TypeError::New(env, "openUdp: not an IP address: " + address).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(env, -1, "socket");
  if (family == AF_INET6) {
    int only = v6_only ? 1 : 0;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only)) != 0) return Fail(env, fd, "IPV6_V6ONLY");
  }
  if (receive_buffer > 0) {
    // As Node's recvBufferSize: the kernel caps it at net.core.rmem_max (the FORCE variant needs CAP_NET_ADMIN).
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof(receive_buffer)) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer)) != 0) {
      return Fail(env, fd, "SO_RCVBUF");
    }
  }
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&name), length) != 0) return Fail(env, fd, "bind");
  // Port 0 asks the kernel for one: report the port it chose.
  socklen_t bound_length = sizeof(name);
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&name), &bound_length) != 0) return Fail(env, fd, "getsockname");
  Napi::Object opened = Napi::Object::New(env);
  opened.Set("port", Napi::Number::New(env, ntohs(family == AF_INET ? in->sin_port : in6->sin6_port)));
  opened.Set("fd", Napi::Number::New(env, fd));
  opened.Set("family", Napi::Number::New(env, family == AF_INET ? 4 : 6));
  return opened;
}

uint32_t TunQueue::ReadDatagrams(bool* drained, int* error) {
  uint32_t batch = rx_batch_size_;
  for (uint32_t i = 0; i < batch; ++i) {
    iovecs_[i].iov_base = rx_buffer_ + static_cast<size_t>(i) * rx_slot_size_;
    iovecs_[i].iov_len = rx_slot_size_;
    struct msghdr& header = messages_[i].msg_hdr;
    memset(&header, 0, sizeof(header));
    header.msg_name = &names_[i];
    header.msg_namelen = sizeof(names_[i]);
    header.msg_iov = &iovecs_[i];
    header.msg_iovlen = 1;
  }
  int n;
  do {
    n = recvmmsg(fd_, messages_.data(), batch, MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      *drained = true;
    } else {
      counters_[k_rxErrors] += 1;
      // ICMP errors queued on the socket (ECONNREFUSED and friends) end this read, not the socket.
      if (e == ENOMEM || e == ENOBUFS || e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH) *drained = true;
      else *error = e;
    }
    return 0;
  }
  if (static_cast<uint32_t>(n) < batch) *drained = true;
  uint32_t count = 0;
  double bytes = 0;
  for (int i = 0; i < n; ++i) {
    if ((messages_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      counters_[k_rxTruncated] += 1;
      continue;
    }
    uint32_t length = messages_[i].msg_len;
    if (static_cast<uint32_t>(i) != count) {
      memmove(rx_buffer_ + static_cast<size_t>(count) * rx_slot_size_, rx_buffer_ + static_cast<size_t>(i) * rx_slot_size_, length);
    }
    WritePeer(names_[i], rx_peers_ + static_cast<size_t>(count) * kPeerRecordSize);
    rx_lengths_[count++] = length;
    bytes += static_cast<double>(length);
  }
  return CountReceived(count, bytes);
}

uint32_t TunQueue::SendDatagrams(const uint8_t* buffer, const uint32_t* offsets, const uint32_t* lengths, uint32_t count,
                                 const uint8_t* peer) {
  struct sockaddr_storage name;
  socklen_t name_length = 0;
  if (!ReadPeer(peer, SocketFamily(fd_), &name, &name_length)) {
    counters_[k_txRejected] += count;
    return 0;
  }
  constexpr uint32_t kChunk = 64;
  struct mmsghdr messages[kChunk];
  struct iovec iovecs[kChunk];
  uint32_t sent = 0;
  uint32_t next = 0;
  while (next < count) {
    uint32_t chunk = count - next < kChunk ? count - next : kChunk;
    for (uint32_t i = 0; i < chunk; ++i) {
      iovecs[i].iov_base = const_cast<uint8_t*>(buffer + offsets[next + i]);
      iovecs[i].iov_len = lengths[next + i];
      struct msghdr& header = messages[i].msg_hdr;
      memset(&header, 0, sizeof(header));
      header.msg_name = &name;
      header.msg_namelen = name_length;
      header.msg_iov = &iovecs[i];
      header.msg_iovlen = 1;
    }
    int n = sendmmsg(fd_, messages, chunk, MSG_DONTWAIT);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      // The first of the chunk failed: count it and go on with the next.
      CountSendFailure(e);
      next += 1;
      continue;
    }
    for (int i = 0; i < n; ++i) counters_[k_txBytes] += static_cast<double>(lengths[next + i]);
    counters_[k_txPackets] += n;
    sent += static_cast<uint32_t>(n);
    next += static_cast<uint32_t>(n);
  }
  return sent;
}

Napi::Value TunQueue::SendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchArguments batch;
  uint8_t* peer = nullptr;
  size_t peer_length = 0;
  if (!udp_ || info.Length() < 5 || !GetBatchArguments(env, info, &batch) ||
      !GetTypedArray(env, info[4], napi_uint8_array, &peer, &peer_length) || peer_length < kPeerRecordSize) {
    Napi::TypeError::New(env, "sendBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count, peer: Uint8Array(20)) expected on a UDP queue")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!CheckBatch(env, info[3], &batch)) return env.Undefined();
  if (closed_) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, SendDatagrams(batch.buffer, batch.offsets, batch.lengths, batch.count, peer));
}

}  // namespace tun
