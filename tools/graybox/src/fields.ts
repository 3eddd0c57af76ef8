// Names the header field at a byte offset of a raw IPv4/IPv6 packet (IP headers, IPv6 extension
// headers, TCP/UDP/ICMP headers and, inside ICMP errors, the quoted packet), so that a diff can
// say "quoted IPv4 total length" instead of "offset 30". Best effort: unknown bytes are "payload".

export interface FieldRange {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

function read16(p: Uint8Array, at: number): number {
  return ((p[at] ?? 0) << 8) | (p[at + 1] ?? 0);
}

/** Field ranges of `packet`, in offset order. */
export function fieldMap(packet: Uint8Array): FieldRange[] {
  const fields: FieldRange[] = [];
  dissect(packet, 0, packet.length, '', fields, true);
  return fields;
}

/** The name of the field containing `offset`, or "payload". */
export function fieldAt(fields: readonly FieldRange[], offset: number): string {
  for (const field of fields) if (offset >= field.start && offset < field.end) return field.name;
  return 'payload';
}

function add(fields: FieldRange[], start: number, end: number, name: string, limit: number): void {
  if (start < limit) fields.push({ start, end: Math.min(end, limit), name });
}

/** A header's fields in order, each with its size in bytes. */
type Layout = readonly (readonly [size: number, name: string])[];

const IPV4_LAYOUT: Layout = [
  [1, 'version/IHL'],
  [1, 'TOS'],
  [2, 'total length'],
  [2, 'identification'],
  [2, 'flags/fragment offset'],
  [1, 'TTL'],
  [1, 'protocol'],
  [2, 'header checksum'],
  [4, 'source address'],
  [4, 'destination address'],
];
const IPV6_LAYOUT: Layout = [
  [1, 'version/traffic class'],
  [3, 'traffic class/flow label'],
  [2, 'payload length'],
  [1, 'next header'],
  [1, 'hop limit'],
  [16, 'source address'],
  [16, 'destination address'],
];
const FRAGMENT_LAYOUT: Layout = [
  [1, 'next header'],
  [1, 'reserved'],
  [2, 'offset/M'],
  [4, 'identification'],
];
/** TCP's and UDP's first four bytes (RFC 9293 §3.1, RFC 768). */
const PORTS_LAYOUT: Layout = [
  [2, 'source port'],
  [2, 'destination port'],
];
const TCP_LAYOUT: Layout = [
  ...PORTS_LAYOUT,
  [4, 'sequence number'],
  [4, 'acknowledgment number'],
  [2, 'data offset/flags'],
  [2, 'window'],
  [2, 'checksum'],
  [2, 'urgent pointer'],
];
const UDP_LAYOUT: Layout = [...PORTS_LAYOUT, [2, 'length'], [2, 'checksum']];
const ICMP_LAYOUT: Layout = [
  [1, 'type'],
  [1, 'code'],
  [2, 'checksum'],
  [4, 'rest of header (identifier/sequence, MTU, pointer, length)'],
];

/** Adds the fields of `layout` from `at` on, each named "`label` `name`". */
function addLayout(fields: FieldRange[], at: number, layout: Layout, label: string, limit: number): void {
  for (const [size, name] of layout) {
    add(fields, at, at + size, `${label} ${name}`, limit);
    at += size;
  }
}

function dissect(p: Uint8Array, at: number, end: number, prefix: string, fields: FieldRange[], outer: boolean): void {
  if (at >= end) return;
  const version = (p[at] ?? 0) >> 4;
  if (version === 4) dissect4(p, at, end, prefix, fields, outer);
  else if (version === 6) dissect6(p, at, end, prefix, fields, outer);
}

function dissect4(p: Uint8Array, at: number, end: number, prefix: string, fields: FieldRange[], outer: boolean): void {
  const ihl = ((p[at] ?? 0) & 15) * 4;
  addLayout(fields, at, IPV4_LAYOUT, `${prefix}IPv4`, end);
  if (ihl > 20) add(fields, at + 20, at + ihl, `${prefix}IPv4 options`, end);
  const fragmentOffset = read16(p, at + 6) & 0x1fff;
  if (fragmentOffset === 0) dissectTransport(p, at + ihl, end, p[at + 9] ?? -1, 1, prefix, fields, outer);
}

function dissect6(p: Uint8Array, at: number, end: number, prefix: string, fields: FieldRange[], outer: boolean): void {
  addLayout(fields, at, IPV6_LAYOUT, `${prefix}IPv6`, end);
  let next = p[at + 6] ?? -1;
  let pos = at + 40;
  for (;;) {
    if (next === 0 || next === 43 || next === 60) {
      const length = ((p[pos + 1] ?? 0) + 1) * 8;
      const kind = next === 0 ? 'hop-by-hop' : next === 43 ? 'routing' : 'destination options';
      add(fields, pos, pos + length, `${prefix}${kind} header`, end);
      next = p[pos] ?? -1;
      pos += length;
    } else if (next === 44) {
      addLayout(fields, pos, FRAGMENT_LAYOUT, `${prefix}fragment`, end);
      const offset = read16(p, pos + 2) >> 3;
      next = p[pos] ?? -1;
      pos += 8;
      if (offset !== 0) return;
    } else {
      break;
    }
    if (pos >= end) return;
  }
  dissectTransport(p, pos, end, next, 58, prefix, fields, outer);
}

function dissectTransport(p: Uint8Array, at: number, end: number, protocol: number, icmp: number, prefix: string, fields: FieldRange[], outer: boolean): void {
  if (protocol === 6) {
    addLayout(fields, at, TCP_LAYOUT, `${prefix}TCP`, end);
  } else if (protocol === 17) {
    addLayout(fields, at, UDP_LAYOUT, `${prefix}UDP`, end);
  } else if (protocol === 1 || protocol === 58) {
    addLayout(fields, at, ICMP_LAYOUT, `${prefix}${protocol === 1 ? 'ICMPv4' : 'ICMPv6'}`, end);
    const type = p[at] ?? -1;
    const isError = protocol === 1 ? type === 3 || type === 11 || type === 12 : type >= 0 && type < 128;
    if (isError && outer && protocol === icmp) dissect(p, at + 8, end, 'quoted ', fields, false);
  }
}
