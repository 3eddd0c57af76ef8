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

// A batch argument list's count (a JavaScript number) checked against offsets and lengths, and
// every packet checked to lie inside the buffer, before anything is written; false after throwing.
inline bool CheckBatch(Napi::Env env, const Napi::Value& count_value, size_t buffer_length, const uint32_t* offsets,
                       size_t offsets_length, const uint32_t* lengths, size_t lengths_length, uint32_t* count) {
  double value = count_value.As<Napi::Number>().DoubleValue();
  if (!(value >= 0) || value > static_cast<double>(offsets_length) || value > static_cast<double>(lengths_length) ||
      value != static_cast<uint32_t>(value)) {
    Napi::RangeError::New(env, "count must be an integer within offsets.length and lengths.length").ThrowAsJavaScriptException();
    return false;
  }
  *count = static_cast<uint32_t>(value);
  for (uint32_t i = 0; i < *count; ++i) {
    if (static_cast<uint64_t>(offsets[i]) + lengths[i] > buffer_length) {
      Napi::RangeError::New(env, "packet " + std::to_string(i) + " lies outside the buffer").ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

}  // namespace tun
