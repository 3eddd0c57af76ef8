// What mapError of icmp46.ts or icmp64.ts worked out for one ICMP error: the translated type and
// code, and the word after the checksum (MTU or pointer). One object, reused: no allocation per packet.
// And the check both directions make first, on the quoted packet.

import { DropReason } from './reasons.js';
import type { Ipv4View, Ipv6View } from './view.js';

export const mapped = { type: 0, code: 0, rest: 0 };
/** mapError's result when the error maps (else a DropReason). */
export const MAPPED = -1;

/** Records a mapped error in `mapped`; returns MAPPED. */
export function setMapped(type: number, code: number, rest: number): number {
  mapped.type = type;
  mapped.code = code;
  mapped.rest = rest;
  return MAPPED;
}

/**
 * RFC 7915 4.3, 5.3: the packet an error quotes is translated too, so it must have parsed, and an
 * error about an error is not translated. MAPPED when `v`'s quoted packet qualifies, else the DropReason.
 */
export function checkQuoted(v: Ipv4View | Ipv6View): number {
  const inner = v.inner;
  if (inner === null || v.innerStatus !== 0) return DropReason.icmpBadInner;
  return inner.isIcmpError ? DropReason.icmpNestedError : MAPPED;
}
