// The per-queue counters native code keeps in a Float64Array that JavaScript owns and reads
// without a call into native code. The order here is the order in src/constants.ts; the addon
// exports the names and the TypeScript loader refuses to run when the two lists disagree.
#pragma once

namespace tun {

#define TUN_COUNTERS(X) \
  X(rxPackets)          \
  X(rxBytes)            \
  X(rxBatches)          \
  X(rxWakeups)          \
  X(rxTruncated)        \
  X(rxErrors)           \
  X(txPackets)          \
  X(txBytes)            \
  X(txDropped)          \
  X(txRejected)         \
  X(txErrors)

enum Counter {
#define TUN_COUNTER_ENUM(name) k_##name,
  TUN_COUNTERS(TUN_COUNTER_ENUM)
#undef TUN_COUNTER_ENUM
  kCounterCount
};

}  // namespace tun
