// Verdicts and the single table of drop reasons. Every packet the translator does not forward is
// counted under exactly one reason; the gateway prints the table with its counters in `stats`.
import type { ValueOf } from '@nat64/wire';

/** What a translation did with the packet. */
export const Verdict = {
  /** Translated packet(s) were appended to the output batch. */
  forward: 0,
  /** Nothing was appended; `reason` says why. */
  drop: 1,
  /** The packet was refused and an ICMP error to its sender was appended instead; `reason` says why. */
  icmpError: 2,
} as const;
export type Verdict = ValueOf<typeof Verdict>;

/** Drop reasons with a one-line explanation each, in counter order (index = reason code). */
export const DROP_REASONS = [
  ['none', 'not dropped'],
  ['truncated', 'packet shorter than its headers say, or a first fragment without its whole transport header'],
  ['badVersion', 'IP version field does not match the family the packet was handed in as'],
  ['badHeader', 'inconsistent IPv4 header length fields (IHL below 5, total length below IHL)'],
  ['badIpv4Checksum', 'IPv4 header checksum does not verify (RFC 1812 5.2.2)'],
  ['badIpv4Options', 'malformed IPv4 options'],
  ['badIcmpChecksum', 'ICMP or ICMPv6 error whose checksum does not verify: it is rebuilt in translation, so it is checked first (RFC 7915 5)'],
  ['extensionAfterFragment', 'extension header after the Fragment header (RFC 7915 5.1), answered with ICMPv6 1/1'],
  ['segmentsLeft', 'Routing header with Segments Left not zero (RFC 7915 5.1), answered with ICMPv6 4/0'],
  ['sourceRoute', 'unexpired IPv4 source route option (RFC 7915 4.1), answered with ICMPv4 3/5'],
  ['ttlExceeded', 'TTL or hop limit would reach zero, answered with Time Exceeded'],
  ['packetTooBig', 'IPv6 packet too big for the IPv4 next hop (RFC 7915 5.1.1), answered with Packet Too Big'],
  ['fragmentationNeeded', 'IPv4 packet with DF too big for the IPv6 next hop (RFC 7915 4.1), answered with ICMPv4 3/4'],
  ['udpChecksumZero', 'IPv4 UDP checksum zero with amend-udp-checksum-zero off (RFC 7915 4.5), answered with ICMPv4 3/13'],
  ['udpChecksumZeroIpv6', 'IPv6 UDP with checksum zero, which IPv6 receivers must discard (RFC 8200 8.1)'],
  ['udpChecksumZeroFragment', 'fragmented IPv4 UDP with checksum zero (RFC 7915 4.5), answered with ICMPv4 3/13'],
  ['fragmentedIcmp', 'fragmented ICMP message (RFC 7915 1.2: not translated)'],
  ['icmpType', 'ICMP type without a counterpart in the other family (RFC 7915 4.2, 5.2)'],
  ['icmpCode', 'ICMP error code without a counterpart in the other family (RFC 7915 4.2, 5.2)'],
  ['icmpPointer', 'Parameter Problem pointer without a counterpart (RFC 7915 4.2 Figure 3, 5.2 Figure 6)'],
  ['icmpNestedError', 'ICMP error quoting another ICMP error (RFC 7915 4.3, 5.3)'],
  ['icmpBadInner', 'ICMP error whose quoted packet is too short or malformed to translate'],
  ['singleHop', 'single-hop protocol that must not be translated (IGMP, RFC 7915 4.2)'],
  ['outputTooLarge', 'translated packet larger than an output batch slot'],
  ['batchFull', 'no free slot left in the output batch'],
] as const satisfies readonly (readonly [string, string])[];

type ReasonName = (typeof DROP_REASONS)[number][0];

/** Reason codes by name, e.g. `DropReason.truncated`. */
export const DropReason = Object.freeze(Object.fromEntries(DROP_REASONS.map(([name], code) => [name, code])) as { readonly [K in ReasonName]: number });

export const DROP_REASON_COUNT = DROP_REASONS.length;

/** The name of a reason code, for logs. */
export function dropReasonName(code: number): string {
  return DROP_REASONS[code]?.[0] ?? `unknown(${code})`;
}
