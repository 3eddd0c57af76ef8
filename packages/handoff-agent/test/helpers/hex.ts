// Golden bytes written as commented hex: everything after '#' on a line is a comment, whitespace
// is ignored, and what is left must be an even number of hex digits.
export function hex(text: string): Uint8Array {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`not hex octets: ${digits}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** Eight hex digits of a 32-bit number, to splice a random request identifier into a golden vector. */
export function u32hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
