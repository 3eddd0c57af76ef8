// Text forms of the addresses the datapath keeps as numbers and bytes: IPv4 as an unsigned 32-bit
// number, IPv6 as 16 bytes. Formatting is on the connection log's path (hundreds of thousands of
// lines per second), so it is written by hand rather than through an address library.

export function formatIpv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** RFC 5952 canonical text: lowercase, no leading zeros, the longest run (first if tied) of two or more zero groups as "::". */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
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

export function formatEndpoint4(address: number, port: number): string {
  return `${formatIpv4(address)}:${port}`;
}

export function formatEndpoint6(bytes: Uint8Array, port: number, offset = 0): string {
  return `[${formatIpv6(bytes, offset)}]:${port}`;
}

/** Strict dotted-quad parse (no octal, no shorthand). Returns -1 when the text is not an IPv4 address. */
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
