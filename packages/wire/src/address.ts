// Address text: IPv4 dotted quads as unsigned 32-bit numbers, IPv6 text (RFC 4291 section 2.2,
// including an embedded dotted quad) as 16 bytes, and RFC 5952 canonical output. Parsing is for
// configuration and tools; formatting is on the connection log's path (hundreds of thousands of
// lines per second), so it is written by hand rather than through an address library.

/** Strict "a.b.c.d" (no octal, no shorthand) as an unsigned 32-bit number; -1 when the text is not a dotted quad. */
export function ipv4TextToUint32(text: string): number {
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

export function uint32ToIpv4Text(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/**
 * Parses IPv6 text into `out[offset, offset + 16)`; returns false (leaving `out` untouched) when
 * the text is not an IPv6 address. Zone identifiers are not accepted.
 */
export function ipv6TextIntoBytes(text: string, out: Uint8Array, offset = 0): boolean {
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
      const v4 = ipv4TextToUint32(group);
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

/** IPv6 text as a new 16-byte array, or null when the text is not an IPv6 address. */
export function ipv6TextToBytes(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  return ipv6TextIntoBytes(text, out) ? out : null;
}

/**
 * The run of zero groups RFC 5952 writes as "::" in the IPv6 address at bytes[offset]: the longest
 * (first if tied) of two or more, as start * 16 + length, or -1 when there is none.
 */
export function ipv6ZeroRun(bytes: Uint8Array, offset = 0): number {
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let group = 0; group <= 8; group++) {
    const isZero = group < 8 && bytes[offset + group * 2] === 0 && bytes[offset + group * 2 + 1] === 0;
    if (isZero) {
      if (runStart < 0) runStart = group;
    } else if (runStart >= 0) {
      if (group - runStart > bestLength) {
        bestStart = runStart;
        bestLength = group - runStart;
      }
      runStart = -1;
    }
  }
  return bestStart < 0 ? -1 : bestStart * 16 + bestLength;
}

/** RFC 5952 canonical text of the IPv6 address at bytes[offset]: lowercase, no leading zeros, the longest run (first if tied) of two or more zero groups as "::". */
export function bytesToIpv6Text(bytes: Uint8Array, offset = 0): string {
  const zeroRun = ipv6ZeroRun(bytes, offset);
  const bestStart = zeroRun < 0 ? -1 : zeroRun >> 4;
  const bestLength = zeroRun & 15;
  let text = '';
  for (let group = 0; group < 8; group++) {
    if (group === bestStart) {
      text += '::';
      group += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += (((bytes[offset + group * 2] ?? 0) << 8) | (bytes[offset + group * 2 + 1] ?? 0)).toString(16);
  }
  return text;
}
