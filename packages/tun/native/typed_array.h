// Typed-array access for the binding: one napi call per argument, checking the element type.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace tun {

template <typename T>
inline bool GetTypedArray(napi_env env, const Napi::Value& value, napi_typedarray_type want, T** data,
                          size_t* length) {
  napi_typedarray_type type;
  void* pointer = nullptr;
  napi_value array_buffer;
  size_t byte_offset;
  napi_status status = napi_get_typedarray_info(env, value, &type, length, &pointer, &array_buffer, &byte_offset);
  if (status != napi_ok || type != want) return false;
  // napi already adds byte_offset to the pointer.
  *data = static_cast<T*>(pointer);
  return true;
}

// The (buffer, offsets, lengths, count) arguments that writeBatch and sendBatch begin with.
struct BatchArguments {
  uint8_t* buffer = nullptr;
  uint32_t* offsets = nullptr;
  uint32_t* lengths = nullptr;
  size_t buffer_length = 0;
  size_t offsets_length = 0;
  size_t lengths_length = 0;
  uint32_t count = 0;
};

// Reads info[0..2] as the batch's arrays and checks that info[3] is a number; false (nothing
// thrown, the caller names its own signature) when one is missing or of another type.
inline bool GetBatchArguments(napi_env env, const Napi::CallbackInfo& info, BatchArguments* batch) {
  return info.Length() >= 4 && GetTypedArray(env, info[0], napi_uint8_array, &batch->buffer, &batch->buffer_length) &&
         GetTypedArray(env, info[1], napi_uint32_array, &batch->offsets, &batch->offsets_length) &&
         GetTypedArray(env, info[2], napi_uint32_array, &batch->lengths, &batch->lengths_length) && info[3].IsNumber();
}

// The batch's count (info[3], a JavaScript number) checked against offsets and lengths, and every
// packet checked to lie inside the buffer, before anything is written; false after throwing.
inline bool CheckBatch(Napi::Env env, const Napi::Value& count_value, BatchArguments* batch) {
  double value = count_value.As<Napi::Number>().DoubleValue();
  if (!(value >= 0) || value > static_cast<double>(batch->offsets_length) || value > static_cast<double>(batch->lengths_length) ||
      value != static_cast<uint32_t>(value)) {
    Napi::RangeError::New(env, "count must be an integer within offsets.length and lengths.length").ThrowAsJavaScriptException();
    return false;
  }
  batch->count = static_cast<uint32_t>(value);
  for (uint32_t i = 0; i < batch->count; ++i) {
    if (static_cast<uint64_t>(batch->offsets[i]) + batch->lengths[i] > batch->buffer_length) {
      Napi::RangeError::New(env, "packet " + std::to_string(i) + " lies outside the buffer").ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

}  // namespace tun
