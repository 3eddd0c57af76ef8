// Mutable translator state shared by the translation paths: resolved configuration, drop counters,
// the IPv4 Identification generator, the ICMP error rate limiter and scratch space for the ICMP
// error layout. One instance per Translator; nothing here allocates per packet.

import type { ResolvedConfig } from './config.js';
import { DROP_REASON_COUNT, Verdict } from './reasons.js';

/** Where the parts of a translated ICMP error go (see icmp-layout.ts). */
export class IcmpLayout {
  /** Bytes of the translated quoted datagram that are written. */
  datagram = 0;
  /** Size of the "original datagram" field, padding included. */
  padded = 0;
  /** Bytes of RFC 4884 extension kept (0 = dropped or absent). */
  extension = 0;
}

export class XlatState {
  readonly config: ResolvedConfig;
  /** Drops per reason code (Float64Array: exact up to 2^53, never wraps). */
  readonly drops = new Float64Array(DROP_REASON_COUNT);
  /** Reason of the latest drop or ICMP error verdict. */
  reason = 0;
  icmpErrorsSent = 0;
  icmpErrorsSuppressed = 0;
  readonly layout = new IcmpLayout();
  private id: number;
  private tokens: number;
  private refilledAt: number;

  constructor(config: ResolvedConfig) {
    this.config = config;
    // A random start, then +1 per packet: cheap and unique per 65536 packets, but guessable from
    // one sample (RFC 7739 discusses the trade-off; a keyed hash per flow would fix it).
    this.id = Math.floor(Math.random() * 0x10000);
    this.tokens = config.icmpErrorRate.burst;
    this.refilledAt = config.now();
  }

  /** Counts a drop under `reason` and returns Verdict.drop. */
  drop(reason: number): Verdict {
    this.reason = reason;
    this.drops[reason]!++;
    return Verdict.drop;
  }

  /** RFC 7915 5.1: Identification for IPv4 packets without a Fragment header to copy it from. */
  nextIpv4Id(): number {
    this.id = (this.id + 1) & 0xffff;
    return this.id;
  }

  /** Token bucket: true when one more ICMP error may be sent now. */
  takeIcmpToken(): boolean {
    const rate = this.config.icmpErrorRate;
    const now = this.config.now();
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(rate.burst, this.tokens + (elapsed * rate.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) {
      this.icmpErrorsSuppressed++;
      return false;
    }
    this.tokens -= 1;
    return true;
  }
}
