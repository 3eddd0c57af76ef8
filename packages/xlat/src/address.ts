// Address text for configuration, tests and logs: IPv4 dotted quads as unsigned 32-bit numbers,
// IPv6 text (RFC 4291 2.2, including an embedded dotted quad) as 16 bytes, and RFC 5952
// canonical output. Never used on the packet path.

/** Parses "a.b.c.d" into an unsigned 32-bit number; -1 when the text is not a dotted quad. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return -1;
    const octet = Number(part);
    if (octet > 255) return -1;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/**
 * Parses IPv6 text into `out[offset, offset + 16)`; returns false (leaving `out` untouched) when
 * the text is not an IPv6 address. Zone identifiers are not accepted.
 */
export function parseIpv6Into(text: string, out: Uint8Array, offset = 0): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (head === null || tail === null) return false;
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) return false;
  const words = [...head, ...Array<number>(halves.length === 2 ? zeros : 0).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = words[i]! >>> 8;
    out[offset + 2 * i + 1] = words[i]! & 0xff;
  }
  return true;
}

/** Hex groups separated by ':'; a dotted quad may stand for the last two when `last` is set. */
function parseGroups(text: string, last: boolean): number[] | null {
  if (text === '') return [];
  const groups = text.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (last && i === groups.length - 1 && group.includes('.')) {
      const v4 = parseIpv4(group);
      if (v4 < 0) return null;
      words.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) {
      words.push(parseInt(group, 16));
    } else {
      return null;
    }
  }
  return words;
}

/** Parses IPv6 text into a new 16-byte array, or returns null. */
export function parseIpv6(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  return parseIpv6Into(text, out) ? out : null;
}

/** RFC 5952 section 4 text of the IPv6 address at buf[offset]. */
export function formatIpv6(buf: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((buf[offset + 2 * i]! << 8) | buf[offset + 2 * i + 1]!);
  // Longest run of zero words, at least two long, leftmost on ties (RFC 5952 4.2.3).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => words.slice(from, to).map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}
