// One open TUN queue as a JavaScript object: batched non-blocking reads driven by uv_poll on the
// loop of the environment (main thread or worker) that created it, and batched writes. The same
// object serves a UDP socket (udp mode): recvmmsg(2) fills the slots and a peer record per slot,
// sendmmsg(2) sends a batch to one peer (udp.cc).
//
// Lifetime: the uv_poll_t lives in its own heap block (Poll) because libuv frees a handle only
// after uv_close's callback, which may run after the JavaScript object was collected or the
// environment started tearing down. While polling, the object holds a strong reference to itself
// so the collector cannot take it from under libuv.
#pragma once

#include <napi.h>
#include <uv.h>

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tun {

class TunQueue;

struct Poll {
  uv_poll_t handle;
  TunQueue* owner;  // null once the queue shut down; the handle is then closing
  napi_async_cleanup_hook_handle cleanup_hook;
};

class TunQueue : public Napi::ObjectWrap<TunQueue> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new TunQueue(fd, counters: Float64Array, vnetHeaders = false, udp = false): takes ownership of
  // the descriptor; vnetHeaders when it was opened with offload (a virtio-net header per packet);
  // udp when it is a UDP socket (from openUdp).
  explicit TunQueue(const Napi::CallbackInfo& info);
  ~TunQueue() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value WriteBatch(const Napi::CallbackInfo& info);
  Napi::Value WritePacket(const Napi::CallbackInfo& info);
  Napi::Value SendBatch(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static void OnPollEvent(uv_poll_t* handle, int status, int events);
  static void OnPollClosed(uv_handle_t* handle);
  static void OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* arg);

  void OnReadable(int status);
  // Reads one batch into the slots; returns the packet count and sets *drained on EAGAIN and
  // *error to a fatal errno.
  uint32_t ReadBatch(bool* drained, int* error);
  // Counts a batch of `count` packets of `bytes` in all as received; returns count.
  uint32_t CountReceived(uint32_t count, double bytes);
  bool Deliver(napi_value self, uint32_t count);
  void Fail(napi_value self, int error);
  // Calls a handler with one argument; what it throws is reported as an uncaught exception.
  napi_status CallHandler(napi_value self, const Napi::FunctionReference& handler, napi_value argument);
  bool WriteOne(const uint8_t* header, const uint8_t* data, size_t length);
  // Counts a failed write or send by its errno: dropped, rejected or error (see TunCounters).
  void CountSendFailure(int error);
  // udp mode (udp.cc): the batch read and the batch send to one peer.
  uint32_t ReadDatagrams(bool* drained, int* error);
  uint32_t SendDatagrams(const uint8_t* buffer, const uint32_t* offsets, const uint32_t* lengths, uint32_t count,
                         const uint8_t* peer);
  void StopPolling();
  // Stops polling and closes the descriptor; no JavaScript calls, so it is safe in teardown.
  void Shutdown();
  // Lets go of the callbacks, buffers and the self reference; only from JavaScript's thread
  // with JavaScript allowed, and never while a callback is running.
  void ReleaseJavaScriptState();

  napi_env env_;
  int fd_ = -1;
  double* counters_ = nullptr;
  Napi::Reference<Napi::Value> counters_ref_;

  bool vnet_ = false;
  bool udp_ = false;
  // With udp_: a kPeerRecordSize record (address, port) per slot; scratch for recvmmsg/sendmmsg.
  uint8_t* rx_peers_ = nullptr;
  Napi::Reference<Napi::Value> rx_peers_ref_;
  std::vector<struct mmsghdr> messages_;
  std::vector<struct iovec> iovecs_;
  std::vector<struct sockaddr_storage> names_;
  // With vnet_: the virtio-net header of each received packet, kVnetHeaderSize bytes per slot.
  uint8_t* rx_vnet_ = nullptr;
  Napi::Reference<Napi::Value> rx_vnet_ref_;
  uint8_t* rx_buffer_ = nullptr;
  size_t rx_slot_size_ = 0;
  uint32_t* rx_lengths_ = nullptr;
  uint32_t rx_batch_size_ = 0;
  uint32_t batches_per_wake_ = 1;
  Napi::Reference<Napi::Value> rx_buffer_ref_;
  Napi::Reference<Napi::Value> rx_lengths_ref_;
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_error_;
  napi_async_context async_context_ = nullptr;

  Poll* poll_ = nullptr;
  bool started_ = false;
  bool closed_ = false;
  bool referenced_ = true;
  bool holds_self_ = false;
  bool in_callback_ = false;
};

}  // namespace tun
