// Numbers of the handoff glue: "specification" values of the packets it reads (each cites its
// source) and "implementation" values that are our own choices.

/** Numbers fixed by specifications. */
export const SPEC = {
  /** RFC 792: Echo Reply; the only ICMP query a server sends back to a client's mapping. */
  ICMP4_ECHO_REPLY: 0,
} as const;

/** Our own choices. */
export const IMPL = {
  /**
   * How long a mapping change may wait for its datagram to fill while packets keep coming; the last
   * batch of a burst sends what is open, and a timer at the deadline when no batch comes, so the
   * worst case stays under 10 ms (section 5.11).
   */
  FLUSH_DELAY: '4ms',
  /**
   * The miss queue's waits and the transport's own timers (Geneve refresh, bypass scans) run this
   * often, while there are any: packets waiting for a host's HELLO-ACK, or a transport whose tick
   * has work (hasHousework: Geneve tunnels, bypass hosts; the messages transport has no tick), so an
   * idle gateway sleeps until the agent's next deadline. The agent's timers (HELLO, retransmission, query timeouts, flush delay) run at the end of
   * every batch, and on a timer set to the agent's next deadline only when no batch comes first.
   */
  HOUSEKEEPING_MS: 50,
  /**
   * The timer is set again for a deadline that moved earlier only when it moved by more than this; it
   * then fires up to this late (the flush delay plus this stays well under section 5.11's 10 ms).
   */
  TIMER_SLACK_MS: 1,
  /** Packets held for one key (protocol, NAT address, port, host) while its QUERY is out. */
  MISS_PACKETS_PER_KEY: 16,
  /** Packets held in all while queries are out. */
  MISS_PACKETS: 4096,
  /** Bytes held in all while queries are out. */
  MISS_BYTES: 4 * 1024 * 1024,
  /** Evicted flows remembered by default: 12 MB, a million idle flows coming back on their own NAT port. */
  EVICTED_FLOWS: 1_000_000,
  /**
   * How long packets from a host never met wait for its HELLO-ACK before they are given back; a
   * receiver on the LAN answers within milliseconds, and TCP retransmits what is given back anyway.
   */
  MISS_PROBE_WAIT_MS: 1000,
  /** A warning about a failing handoff callback is logged at most this often; the rest are counted. */
  ERROR_LOG_INTERVAL_MS: 60_000,
} as const;
