// The stateless IP/ICMP translator (RFC 7915): built once from a validated configuration, then
// called per packet with a parsed view, the caller's address/port decisions and an output batch.
// It never throws per packet; every packet ends in a verdict, and every drop is counted.

import type { PacketBatch } from './batch.js';
import { resolveConfig, type ResolvedConfig, type TranslatorConfig } from './config.js';
import { sendIcmp4Error, sendIcmp6Error } from './icmp-error.js';
import type { Mapping46, Mapping64 } from './mapping.js';
import type { Verdict } from './reasons.js';
import { XlatState } from './state.js';
import type { Ipv4View, Ipv6View } from './view.js';
import { translate46 } from './xlat46.js';
import { translate64 } from './xlat64.js';

export class Translator {
  readonly config: ResolvedConfig;
  private readonly state: XlatState;

  /** Validates `config` completely; throws XlatError('badConfig') on the first problem. */
  constructor(config: TranslatorConfig) {
    this.config = resolveConfig(config);
    this.state = new XlatState(this.config);
  }

  /**
   * Translates the IPv6 packet in `view` (from a successful parseIpv6) to IPv4 using `mapping`,
   * appending the result to `out`. Returns Verdict.forward (one packet appended), Verdict.drop
   * (nothing appended; see `reason`) or Verdict.icmpError (an ICMPv6 error to the sender was
   * appended instead; see `reason`). `flags`: XlatFlags.
   */
  toIpv4(view: Ipv6View, mapping: Mapping64, out: PacketBatch, flags = 0): Verdict {
    return translate64(this.state, view, mapping, out, flags);
  }

  /**
   * Translates the IPv4 packet in `view` (from a successful parseIpv4) to IPv6 using `mapping`,
   * appending one packet, or several IPv6 fragments, to `out`. Verdicts as for `toIpv4`; the ICMP
   * error of Verdict.icmpError is an ICMPv4 packet.
   */
  toIpv6(view: Ipv4View, mapping: Mapping46, out: PacketBatch, flags = 0): Verdict {
    return translate46(this.state, view, mapping, out, flags);
  }

  /**
   * Appends an ICMPv6 error (e.g. Destination Unreachable 1/3 for a missing binding) from the
   * translator's IPv6 address to the sender of `view`, quoting it within 1280 bytes. `param` is
   * the MTU, the pointer or 0. Returns Verdict.icmpError, or Verdict.drop when RFC 4443 2.4(e)
   * forbids an error, the rate limit is exhausted or `out` is full.
   */
  icmp6Error(view: Ipv6View, type: number, code: number, param: number, out: PacketBatch): Verdict {
    return sendIcmp6Error(this.state, view, type, code, param, out);
  }

  /**
   * Appends an ICMPv4 error (e.g. Destination Unreachable 3/3 for a missing binding) from the
   * translator's IPv4 address to the sender of `view`, quoting it within 576 bytes. `param` is the
   * next-hop MTU (3/4), the pointer (12) or 0. Verdicts as for `icmp6Error` (RFC 1812 4.3.2.7).
   */
  icmp4Error(view: Ipv4View, type: number, code: number, param: number, out: PacketBatch): Verdict {
    return sendIcmp4Error(this.state, view, type, code, param, out);
  }

  /** Reason code of the latest drop or ICMP error verdict (see DROP_REASONS). */
  get reason(): number {
    return this.state.reason;
  }

  /** Drop counters indexed by reason code; live, never reset by the translator. */
  get drops(): Float64Array {
    return this.state.drops;
  }

  /** ICMP errors generated (not translated) so far. */
  get icmpErrorsSent(): number {
    return this.state.icmpErrorsSent;
  }

  /** ICMP errors not generated because the rate limit was exhausted. */
  get icmpErrorsSuppressed(): number {
    return this.state.icmpErrorsSuppressed;
  }
}
