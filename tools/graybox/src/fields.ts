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

function dissect(p: Uint8Array, at: number, end: number, prefix: string, fields: FieldRange[], outer: boolean): void {
  if (at >= end) return;
  const version = (p[at] ?? 0) >> 4;
  if (version === 4) dissect4(p, at, end, prefix, fields, outer);
  else if (version === 6) dissect6(p, at, end, prefix, fields, outer);
}

function dissect4(p: Uint8Array, at: number, end: number, prefix: string, fields: FieldRange[], outer: boolean): void {
  const ihl = ((p[at] ?? 0) & 15) * 4;
  const names: [number, number, string][] = [
    [0, 1, 'version/IHL'],
    [1, 2, 'TOS'],
    [2, 4, 'total length'],
    [4, 6, 'identification'],
    [6, 8, 'flags/fragment offset'],
    [8, 9, 'TTL'],
    [9, 10, 'protocol'],
    [10, 12, 'header checksum'],
    [12, 16, 'source address'],
    [16, 20, 'destination address'],
  ];
  for (const [s, e, name] of names) add(fields, at + s, at + e, `${prefix}IPv4 ${name}`, end);
  if (ihl > 20) add(fields, at + 20, at + ihl, `${prefix}IPv4 options`, end);
  const fragmentOffset = read16(p, at + 6) & 0x1fff;
  if (fragmentOffset === 0) dissectTransport(p, at + ihl, end, p[at + 9] ?? -1, 1, prefix, fields, outer);
}

function dissect6(p: Uint8Array, at: number, end: number, prefix: string, fields: FieldRange[], outer: boolean): void {
  const names: [number, number, string][] = [
    [0, 1, 'version/traffic class'],
    [1, 4, 'traffic class/flow label'],
    [4, 6, 'payload length'],
    [6, 7, 'next header'],
    [7, 8, 'hop limit'],
    [8, 24, 'source address'],
    [24, 40, 'destination address'],
  ];
  for (const [s, e, name] of names) add(fields, at + s, at + e, `${prefix}IPv6 ${name}`, end);
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
      add(fields, pos, pos + 1, `${prefix}fragment next header`, end);
      add(fields, pos + 1, pos + 2, `${prefix}fragment reserved`, end);
      add(fields, pos + 2, pos + 4, `${prefix}fragment offset/M`, end);
      add(fields, pos + 4, pos + 8, `${prefix}fragment identification`, end);
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
    const names: [number, number, string][] = [
      [0, 2, 'source port'],
      [2, 4, 'destination port'],
      [4, 8, 'sequence number'],
      [8, 12, 'acknowledgment number'],
      [12, 14, 'data offset/flags'],
      [14, 16, 'window'],
      [16, 18, 'checksum'],
      [18, 20, 'urgent pointer'],
    ];
    for (const [s, e, name] of names) add(fields, at + s, at + e, `${prefix}TCP ${name}`, end);
  } else if (protocol === 17) {
    const names: [number, number, string][] = [
      [0, 2, 'source port'],
      [2, 4, 'destination port'],
      [4, 6, 'length'],
      [6, 8, 'checksum'],
    ];
    for (const [s, e, name] of names) add(fields, at + s, at + e, `${prefix}UDP ${name}`, end);
  } else if (protocol === 1 || protocol === 58) {
    const label = protocol === 1 ? 'ICMPv4' : 'ICMPv6';
    add(fields, at, at + 1, `${prefix}${label} type`, end);
    add(fields, at + 1, at + 2, `${prefix}${label} code`, end);
    add(fields, at + 2, at + 4, `${prefix}${label} checksum`, end);
    add(fields, at + 4, at + 8, `${prefix}${label} rest of header (identifier/sequence, MTU, pointer, length)`, end);
    const type = p[at] ?? -1;
    const isError = protocol === 1 ? type === 3 || type === 11 || type === 12 : type >= 0 && type < 128;
    if (isError && outer && protocol === icmp) dissect(p, at + 8, end, 'quoted ', fields, false);
  }
}
