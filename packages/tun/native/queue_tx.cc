// The transmit half of TunQueue (see queue.h): one write(2) per packet, since TUN has no
// batched write (writev(2) with the virtio-net header in offload mode), with failures counted
// by class and never thrown.
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>

#include "counters.h"
#include "open.h"
#include "queue.h"
#include "typed_array.h"

namespace tun {

namespace {

// The header of a packet written without offload information: no GSO, checksum complete.
const uint8_t kPlainVnetHeader[kVnetHeaderSize] = {};

}  // namespace

bool TunQueue::WriteOne(const uint8_t* header, const uint8_t* data, size_t length) {
  for (;;) {
    ssize_t n;
    if (vnet_) {
      struct iovec iov[2] = {
          {const_cast<uint8_t*>(header != nullptr ? header : kPlainVnetHeader), kVnetHeaderSize},
          {const_cast<uint8_t*>(data), length},
      };
      n = writev(fd_, iov, 2);
    } else {
      n = write(fd_, data, length);
    }
    if (n >= 0) {
      counters_[k_txPackets] += 1;
      counters_[k_txBytes] += static_cast<double>(length);
      return true;
    }
    if (errno == EINTR) continue;
    CountSendFailure(errno);
    return false;
  }
}

void TunQueue::CountSendFailure(int error) {
  switch (error) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
    case ENOMEM:
      counters_[k_txDropped] += 1;
      return;
    case EINVAL:
    case EMSGSIZE:
    case EAFNOSUPPORT:
      // The kernel refused this packet (TUN with IFF_NO_PI: the version nibble must be 4 or 6; UDP:
      // too large, or a peer of the other family).
      counters_[k_txRejected] += 1;
      return;
    default:
      counters_[k_txErrors] += 1;
  }
}

Napi::Value TunQueue::WriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchArguments batch;
  if (!GetBatchArguments(env, info, &batch)) {
    Napi::TypeError::New(env, "writeBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count) expected")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!CheckBatch(env, info[3], &batch)) return env.Undefined();
  const uint32_t count = batch.count;
  // writeBatch(..., count, vnetHeaders?): with offload, packet i's virtio-net header at i * 10.
  uint8_t* headers = nullptr;
  size_t headers_length = 0;
  if (vnet_ && info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsNull()) {
    if (!GetTypedArray(env, info[4], napi_uint8_array, &headers, &headers_length) ||
        headers_length < static_cast<size_t>(count) * kVnetHeaderSize) {
      Napi::RangeError::New(env, "vnetHeaders must hold count * 10 bytes").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  uint32_t written = 0;
  if (!closed_) {
    for (uint32_t i = 0; i < count; ++i) {
      const uint8_t* header = headers != nullptr ? headers + static_cast<size_t>(i) * kVnetHeaderSize : nullptr;
      written += WriteOne(header, batch.buffer + batch.offsets[i], batch.lengths[i]) ? 1 : 0;
    }
  }
  return Napi::Number::New(env, written);
}

Napi::Value TunQueue::WritePacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* buffer = nullptr;
  size_t buffer_length = 0;
  if (info.Length() < 3 || !GetTypedArray(env, info[0], napi_uint8_array, &buffer, &buffer_length) ||
      !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "writePacket(buffer: Uint8Array, offset, length) expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double offset = info[1].As<Napi::Number>().DoubleValue();
  double length = info[2].As<Napi::Number>().DoubleValue();
  if (!(offset >= 0) || !(length >= 0) || offset != static_cast<uint32_t>(offset) ||
      length != static_cast<uint32_t>(length) || offset + length > static_cast<double>(buffer_length)) {
    Napi::RangeError::New(env, "the packet lies outside the buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (closed_) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, WriteOne(nullptr, buffer + static_cast<size_t>(offset), static_cast<size_t>(length)));
}

}  // namespace tun
