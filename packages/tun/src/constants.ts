// Numbers for the TUN binding: those fixed by specifications and the Linux interface in SPEC,
// our own choices in DEFAULTS, and the order of the counters native code keeps.

/** Numbers from specifications and the Linux user-space API. */
export const SPEC = {
  /** Interface names are IFNAMSIZ bytes including the final NUL (Linux include/uapi/linux/if.h). */
  IFNAMSIZ: 16,
  /** RFC 791 §3.1 (Total Length): every internet module forwards 68 octets; also Linux's TUN minimum MTU. */
  MIN_MTU: 68,
  /** RFC 791 §3.1 and RFC 8200 §3: 16-bit length fields; also Linux's TUN maximum MTU. */
  MAX_MTU: 65535,
  /** The largest IP packet: an IPv6 header and a payload of 65535 bytes (a TSO segment is at most 65536). */
  MAX_PACKET: 40 + 65535,
  /** RFC 791 §3.1: the Version field of an IPv4 header. */
  IP_VERSION_4: 4,
  /** RFC 8200 §3: the Version field of an IPv6 header. */
  IP_VERSION_6: 6,
  /** tun_flags bits as sysfs shows them (Linux include/uapi/linux/if_tun.h). */
  /** An Ethernet II header in front of every TAP frame: two MACs and the EtherType (IEEE 802.3 §3.1.1). */
  ETHERNET_HEADER: 14,
  IFF_TUN: 0x0001,
  IFF_TAP: 0x0002,
  IFF_MULTI_QUEUE: 0x0100,
} as const;

/** Our own choices. */
export const DEFAULTS = {
  /** Packets read per batch: what one callback receives at most. */
  BATCH_SIZE: 64,
  MAX_BATCH_SIZE: 1024,
  /**
   * Batches one readiness wake-up may read before yielding to the event loop, so a flood cannot
   * starve timers and sockets (like NAPI's budget). 4 x 64 packets is well under a millisecond.
   */
  BATCHES_PER_WAKE: 4,
  MAX_BATCHES_PER_WAKE: 64,
  /** Slots default to the MTU rounded up to a cache line. */
  SLOT_ALIGNMENT: 64,
  /** The MTU of a FakeTun unless told otherwise; also the kernel's default for a new TUN device. */
  MTU: 1500,
  /** Our bound on txQueueLength: each queued packet is a kernel buffer (the kernel's default is 500). */
  MAX_TX_QUEUE_LENGTH: 1_000_000,
} as const;

/**
 * Counters in the order of native/counters.h; the binding exports its list and the loader
 * refuses a binding whose list differs.
 */
export const COUNTER_NAMES = [
  'rxPackets',
  'rxBytes',
  'rxBatches',
  'rxWakeups',
  'rxTruncated',
  'rxErrors',
  'txPackets',
  'txBytes',
  'txDropped',
  'txRejected',
  'txErrors',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];
