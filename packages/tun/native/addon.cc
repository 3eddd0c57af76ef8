// Module entry: open(), closeDescriptor(), the TunQueue class and the counter names. Node-API
// modules are context-aware, so every environment (main thread, each worker) gets its own
// exports and TunQueue class; nothing here is shared between threads.
#include <napi.h>
#include <unistd.h>

#include "counters.h"
#include "open.h"
#include "queue.h"
#include "udp.h"

namespace tun {

namespace {

// open(name, multiQueue, persist (-1|0|1), mtu (0 = leave), up, nonBlocking, offload = false,
//      txQueueLength = 0 (leave), tap = false, receiveSegments = true,
//      receiveChecksums = true)
//      -> { fd, name, mtu, txQueueLength, ifindex, udpSegmentation }, or throws an Error
//      carrying `errno` and `step`.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsString() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "open(name, multiQueue, persist, mtu, up, nonBlocking) expected")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  OpenRequest request;
  request.name = info[0].As<Napi::String>().Utf8Value();
  request.multi_queue = info[1].ToBoolean().Value();
  request.persist = info[2].As<Napi::Number>().Int32Value();
  request.mtu = info[3].As<Napi::Number>().Int32Value();
  request.up = info[4].ToBoolean().Value();
  request.non_blocking = info[5].ToBoolean().Value();
  request.offload = info.Length() > 6 && info[6].ToBoolean().Value();
  request.tx_queue_length = info.Length() > 7 && info[7].IsNumber() ? info[7].As<Napi::Number>().Int32Value() : 0;
  request.tap = info.Length() > 8 && info[8].ToBoolean().Value();
  request.receive_segments = info.Length() <= 9 || info[9].ToBoolean().Value();
  request.receive_checksums = info.Length() <= 10 || info[10].ToBoolean().Value();

  OpenResult result = OpenQueue(request);
  if (result.error != 0) {
    Napi::Error error = Napi::Error::New(env, std::string(result.step) + " failed");
    error.Set("errno", Napi::Number::New(env, result.error));
    error.Set("step", Napi::String::New(env, result.step));
    error.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object opened = Napi::Object::New(env);
  opened.Set("fd", Napi::Number::New(env, result.fd));
  opened.Set("name", Napi::String::New(env, result.name));
  opened.Set("mtu", Napi::Number::New(env, result.mtu));
  opened.Set("txQueueLength", Napi::Number::New(env, result.tx_queue_length));
  opened.Set("ifindex", Napi::Number::New(env, result.ifindex));
  opened.Set("udpSegmentation", Napi::Boolean::New(env, result.udp_segmentation));
  return opened;
}

// For a descriptor from open() that never made it into a TunQueue.
Napi::Value CloseDescriptor(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

}  // namespace tun

static Napi::Object InitTunModule(Napi::Env env, Napi::Object exports) {
  using namespace tun;
  Napi::Array names = Napi::Array::New(env);
  uint32_t index = 0;
#define TUN_COUNTER_NAME(name) names.Set(index++, Napi::String::New(env, #name));
  TUN_COUNTERS(TUN_COUNTER_NAME)
#undef TUN_COUNTER_NAME
  exports.Set("counterNames", names);
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("closeDescriptor", Napi::Function::New(env, CloseDescriptor, "closeDescriptor"));
  exports.Set("openUdp", Napi::Function::New(env, OpenUdp, "openUdp"));
  exports.Set("TunQueue", TunQueue::Define(env));
  return exports;
}

NODE_API_MODULE(tun, InitTunModule)
