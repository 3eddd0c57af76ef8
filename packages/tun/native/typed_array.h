// Typed-array access for the binding: one napi call per argument, checking the element type.
#pragma once

#include <napi.h>

#include <cstddef>

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

}  // namespace tun
