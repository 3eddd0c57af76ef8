// What mapError of icmp46.ts or icmp64.ts worked out for one ICMP error: the translated type and
// code, and the word after the checksum (MTU or pointer). One object, reused: no allocation per packet.

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
