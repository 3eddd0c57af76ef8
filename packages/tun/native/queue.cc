// See queue.h; the write half is in queue_tx.cc. Reading: uv_poll reports readability
// (level-triggered), we readv(2) packets into consecutive slots until EAGAIN or a full batch,
// and call JavaScript once per batch. A wake-up reads at most batches_per_wake_ batches and then
// returns to the loop, so a flood cannot starve timers and other sockets; the descriptor is
// still readable, so the next iteration comes back.
#include "queue.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "counters.h"
#include "open.h"
#include "typed_array.h"
#include "udp.h"

namespace tun {

namespace {

bool IsTransientReadError(int error) { return error == ENOMEM || error == ENOBUFS; }

}  // namespace

Napi::Function TunQueue::Define(Napi::Env env) {
  return DefineClass(env, "TunQueue",
                     {
                         InstanceMethod<&TunQueue::Start>("start"),
                         InstanceMethod<&TunQueue::WriteBatch>("writeBatch"),
                         InstanceMethod<&TunQueue::WritePacket>("writePacket"),
                         InstanceMethod<&TunQueue::SendBatch>("sendBatch"),
                         InstanceMethod<&TunQueue::Ref>("ref"),
                         InstanceMethod<&TunQueue::Unref>("unref"),
                         InstanceMethod<&TunQueue::Close>("close"),
                     });
}

TunQueue::TunQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TunQueue>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  size_t counter_count = 0;
  if (info.Length() < 2 || !info[0].IsNumber() ||
      !GetTypedArray(env, info[1], napi_float64_array, &counters_, &counter_count) ||
      counter_count < kCounterCount) {
    Napi::TypeError::New(env, "TunQueue(fd, counters: Float64Array) expected").ThrowAsJavaScriptException();
    return;
  }
  fd_ = info[0].As<Napi::Number>().Int32Value();
  counters_ref_ = Napi::Persistent(info[1]);
  vnet_ = info.Length() > 2 && info[2].ToBoolean().Value();
  udp_ = info.Length() > 3 && info[3].ToBoolean().Value();
}

TunQueue::~TunQueue() {
  // Reached when JavaScript dropped a queue it never started or already closed, or when the
  // environment is torn down; Shutdown is a no-op in the first two cases apart from the fd.
  Shutdown();
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
}

Napi::Value TunQueue::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_ || started_) {
    Napi::Error::New(env, closed_ ? "TUN queue is closed" : "TUN queue is already started")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t buffer_length = 0;
  size_t batch_size = 0;
  if (info.Length() < 6 || !GetTypedArray(env, info[0], napi_uint8_array, &rx_buffer_, &buffer_length) ||
      !info[1].IsNumber() || !GetTypedArray(env, info[2], napi_uint32_array, &rx_lengths_, &batch_size) ||
      !info[3].IsNumber() || !info[4].IsFunction() || !info[5].IsFunction()) {
    Napi::TypeError::New(env,
                         "start(buffer: Uint8Array, slotSize, lengths: Uint32Array, batchesPerWake, "
                         "onBatch, onError) expected")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t slot_size = info[1].As<Napi::Number>().Uint32Value();
  uint32_t batches_per_wake = info[3].As<Napi::Number>().Uint32Value();
  if (slot_size == 0 || batch_size == 0 || batches_per_wake == 0 ||
      buffer_length / slot_size < batch_size) {
    Napi::RangeError::New(env, "the receive buffer must hold lengths.length slots of slotSize bytes")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // info[6], with offload or in udp mode: a record per slot (virtio-net header, or peer), held while we run.
  auto take_records = [&](size_t record_size, uint8_t** records, Napi::Reference<Napi::Value>* ref, const char* expected) {
    size_t length = 0;
    if (info.Length() < 7 || !GetTypedArray(env, info[6], napi_uint8_array, records, &length) || length < batch_size * record_size) {
      Napi::TypeError::New(env, expected).ThrowAsJavaScriptException();
      return false;
    }
    *ref = Napi::Persistent(info[6]);
    return true;
  };
  if (vnet_ && !take_records(kVnetHeaderSize, &rx_vnet_, &rx_vnet_ref_, "start(..., vnetHeaders: Uint8Array of lengths.length * 10 bytes) expected")) {
    return env.Undefined();
  }
  if (udp_) {
    if (!take_records(kPeerRecordSize, &rx_peers_, &rx_peers_ref_, "start(..., peers: Uint8Array of lengths.length * 20 bytes) expected")) {
      return env.Undefined();
    }
    messages_.resize(batch_size);
    iovecs_.resize(batch_size);
    names_.resize(batch_size);
  }
  rx_slot_size_ = slot_size;
  rx_batch_size_ = static_cast<uint32_t>(batch_size);
  batches_per_wake_ = batches_per_wake;
  rx_buffer_ref_ = Napi::Persistent(info[0]);
  rx_lengths_ref_ = Napi::Persistent(info[2]);
  on_batch_ = Napi::Persistent(info[4].As<Napi::Function>());
  on_error_ = Napi::Persistent(info[5].As<Napi::Function>());

  napi_value resource_name = Napi::String::New(env, "TunQueue");
  if (napi_async_init(env, info.This(), resource_name, &async_context_) != napi_ok) return env.Undefined();

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return env.Undefined();
  Poll* poll = new Poll();
  poll->owner = this;
  poll->cleanup_hook = nullptr;
  int status = uv_poll_init(loop, &poll->handle, fd_);
  if (status != 0) {
    delete poll;
    Napi::Error error = Napi::Error::New(env, uv_strerror(status));
    error.Set("errno", Napi::Number::New(env, -status));
    error.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  poll->handle.data = poll;
  poll_ = poll;
  // The environment may end (worker terminated) with the queue still open: close it then.
  napi_add_async_cleanup_hook(env, OnEnvironmentTeardown, poll, &poll->cleanup_hook);
  uv_poll_start(&poll->handle, UV_READABLE, OnPollEvent);
  if (!referenced_) uv_unref(reinterpret_cast<uv_handle_t*>(&poll->handle));
  ObjectWrap::Ref();
  holds_self_ = true;
  started_ = true;
  return env.Undefined();
}

void TunQueue::OnPollEvent(uv_poll_t* handle, int status, int events) {
  Poll* poll = static_cast<Poll*>(handle->data);
  if (poll->owner != nullptr) poll->owner->OnReadable(status);
}

void TunQueue::OnReadable(int status) {
  Napi::HandleScope scope(env_);
  napi_value self = Value();
  if (status < 0) {
    // libuv stops the handle itself on POLLERR, which is what a deleted interface gives; counted
    // like a failed read.
    counters_[k_rxErrors] += 1;
    Fail(self, -status);
    return;
  }
  counters_[k_rxWakeups] += 1;
  for (uint32_t round = 0; round < batches_per_wake_; ++round) {
    bool drained = false;
    int error = 0;
    uint32_t count = udp_ ? ReadDatagrams(&drained, &error) : ReadBatch(&drained, &error);
    if (count > 0 && !Deliver(self, count)) return;
    if (error != 0) {
      Fail(self, error);
      return;
    }
    if (drained) return;
  }
  // Budget spent with packets left: yield to the loop; level-triggered polling brings us back.
}

uint32_t TunQueue::ReadBatch(bool* drained, int* error) {
  uint32_t count = 0;
  uint32_t attempts = 0;
  double bytes = 0;
  // Oversized packets use up attempts, not slots, so a stream of them still ends the batch.
  while (count < rx_batch_size_ && attempts < rx_batch_size_) {
    // The kernel copies what fits and returns at most what we offered, so we offer one byte
    // more than the slot: a read longer than the slot is a packet that did not fit.
    uint8_t overflow;
    uint8_t* slot = rx_buffer_ + static_cast<size_t>(count) * rx_slot_size_;
    struct iovec iov[3] = {
        {rx_vnet_ + static_cast<size_t>(count) * kVnetHeaderSize, kVnetHeaderSize},
        {slot, rx_slot_size_},
        {&overflow, 1},
    };
    ssize_t n = vnet_ ? readv(fd_, iov, 3) : readv(fd_, iov + 1, 2);
    if (n >= 0 && vnet_) n = n < kVnetHeaderSize ? 0 : n - kVnetHeaderSize;
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) {
        *drained = true;
      } else {
        counters_[k_rxErrors] += 1;
        if (!IsTransientReadError(e)) *error = e;
        // A transient error ends this wake-up early but keeps polling.
        else *drained = true;
      }
      break;
    }
    ++attempts;
    if (static_cast<size_t>(n) > rx_slot_size_) {
      counters_[k_rxTruncated] += 1;
      continue;
    }
    rx_lengths_[count++] = static_cast<uint32_t>(n);
    bytes += static_cast<double>(n);
  }
  return CountReceived(count, bytes);
}

uint32_t TunQueue::CountReceived(uint32_t count, double bytes) {
  if (count > 0) {
    counters_[k_rxPackets] += count;
    counters_[k_rxBytes] += bytes;
    counters_[k_rxBatches] += 1;
  }
  return count;
}

napi_status TunQueue::CallHandler(napi_value self, const Napi::FunctionReference& handler, napi_value argument) {
  napi_value result;
  in_callback_ = true;
  napi_status status = napi_make_callback(env_, async_context_, self, handler.Value(), 1, &argument, &result);
  in_callback_ = false;
  if (status != napi_ok) {
    // The handler threw: report it like an exception from any other event source.
    napi_value exception;
    if (napi_get_and_clear_last_exception(env_, &exception) == napi_ok) napi_fatal_exception(env_, exception);
  }
  return status;
}

bool TunQueue::Deliver(napi_value self, uint32_t count) {
  napi_value argument;
  napi_create_uint32(env_, count, &argument);
  // A throwing handler stops this wake-up; polling goes on unless the handler closed the queue.
  napi_status status = CallHandler(self, on_batch_, argument);
  if (closed_) {
    ReleaseJavaScriptState();
    return false;
  }
  return status == napi_ok;
}

void TunQueue::Fail(napi_value self, int error) {
  StopPolling();
  napi_value argument;
  napi_create_int32(env_, error, &argument);
  CallHandler(self, on_error_, argument);
  if (closed_) ReleaseJavaScriptState();
}

void TunQueue::StopPolling() {
  if (poll_ != nullptr && uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_->handle))) {
    // uv_poll_stop also takes the descriptor out of epoll at once, so closing it next is safe.
    uv_poll_stop(&poll_->handle);
  }
}

void TunQueue::Shutdown() {
  if (closed_) return;
  closed_ = true;
  if (poll_ != nullptr) {
    StopPolling();
    poll_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_->handle), OnPollClosed);
    poll_ = nullptr;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

void TunQueue::OnPollClosed(uv_handle_t* handle) {
  Poll* poll = static_cast<Poll*>(handle->data);
  // Unregisters the hook, or tells a teardown already waiting on it that we are done.
  if (poll->cleanup_hook != nullptr) napi_remove_async_cleanup_hook(poll->cleanup_hook);
  delete poll;
}

void TunQueue::OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
  Poll* poll = static_cast<Poll*>(arg);
  // With no owner a close is already under way and its callback removes the hook.
  if (poll->owner != nullptr) poll->owner->Shutdown();
}

void TunQueue::ReleaseJavaScriptState() {
  if (in_callback_) return;
  on_batch_.Reset();
  on_error_.Reset();
  rx_buffer_ref_.Reset();
  rx_vnet_ref_.Reset();
  rx_vnet_ = nullptr;
  rx_peers_ref_.Reset();
  rx_peers_ = nullptr;
  rx_lengths_ref_.Reset();
  rx_buffer_ = nullptr;
  rx_lengths_ = nullptr;
  if (async_context_ != nullptr) {
    napi_async_destroy(env_, async_context_);
    async_context_ = nullptr;
  }
  if (holds_self_) {
    holds_self_ = false;
    ObjectWrap::Unref();
  }
}

Napi::Value TunQueue::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  // Inside a callback the reader still uses these; it releases them when the callback returns.
  ReleaseJavaScriptState();
  return info.Env().Undefined();
}

Napi::Value TunQueue::Ref(const Napi::CallbackInfo& info) {
  referenced_ = true;
  if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&poll_->handle));
  return info.Env().Undefined();
}

Napi::Value TunQueue::Unref(const Napi::CallbackInfo& info) {
  referenced_ = false;
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->handle));
  return info.Env().Undefined();
}

}  // namespace tun
