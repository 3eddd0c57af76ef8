# The TUN binding (and its batched UDP sockets): a Node-API addon (context-aware, so each worker thread loads its own instance).
# Built by scripts/build-native.mjs against the Node headers already on the machine.
{
  "targets": [
    {
      "target_name": "tun",
      "sources": ["native/addon.cc", "native/open.cc", "native/queue.cc", "native/queue_tx.cc", "native/udp.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
