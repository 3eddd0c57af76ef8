// Hex text <-> bytes for test vectors and diffs.

/** Decodes hex text (whitespace ignored); throws on odd length or a non-hex character. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`not an even-length hex string: "${clean.slice(0, 40)}..."`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Encodes bytes as lowercase hex, without separators. */
export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = '';
  for (let i = start; i < end; i++) text += bytes[i]!.toString(16).padStart(2, '0');
  return text;
}
