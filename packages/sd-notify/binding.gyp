# sd_notify(3) for Node: one Node-API function that sends a datagram to $NOTIFY_SOCKET.
# Built by scripts/build-native.mjs against the Node headers already on the machine.
{
  "targets": [
    {
      "target_name": "sd_notify",
      "sources": ["native/notify.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
