// Compares actual output packets with a suite's expected ones exactly as its comparisonRules
// prescribe (recommendedHarnessAlgorithm): equal length; IPv4 headers listed in
// ipv4ChecksumValidOnlyAt need a valid checksum instead of the file's; wildcard offsets are free;
// every other byte must be equal. Mismatches come back as a readable diff.

import { fieldAt, fieldMap } from './fields.js';
import { toHex } from './hex.js';
import type { ExpectedPacket } from './suite.js';

export interface ByteDifference {
  readonly offset: number;
  readonly field: string;
  readonly expected: number;
  readonly actual: number;
}

export interface Comparison {
  readonly ok: boolean;
  readonly expectedLength: number;
  readonly actualLength: number;
  /** Header offsets (from ipv4ChecksumValidOnlyAt) whose actual checksum does not verify. */
  readonly badChecksums: readonly number[];
  readonly differences: readonly ByteDifference[];
  /** Empty when ok; otherwise a multi-line diff. */
  readonly text: string;
}

function ipv4HeaderValid(p: Uint8Array, at: number): boolean {
  const length = Math.max(20, ((p[at] ?? 0) & 15) * 4);
  if (at + length > p.length) return false;
  let sum = 0;
  for (let i = at; i < at + length; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

const MAX_LINES = 24;
const MAX_RUN_BYTES = 16;

/** Hex of p[start, end), shortened for long runs. */
function excerpt(p: Uint8Array, start: number, end: number): string {
  if (end - start <= MAX_RUN_BYTES) return toHex(p, start, end);
  return `${toHex(p, start, start + MAX_RUN_BYTES)}... (${end - start} bytes)`;
}

/** Compares one actual packet with one expected packet. */
export function comparePacket(expected: ExpectedPacket, actual: Uint8Array): Comparison {
  const want = expected.bytes;
  const skip = new Set<number>(expected.wildcards);
  const badChecksums: number[] = [];
  for (const at of expected.ipv4ChecksumValidOnlyAt) {
    if (!ipv4HeaderValid(actual, at)) badChecksums.push(at);
    skip.add(at + 10);
    skip.add(at + 11);
  }
  const differences: ByteDifference[] = [];
  const fields = fieldMap(want);
  const common = Math.min(want.length, actual.length);
  for (let i = 0; i < common; i++) {
    if (!skip.has(i) && want[i] !== actual[i]) {
      differences.push({ offset: i, field: fieldAt(fields, i), expected: want[i]!, actual: actual[i]! });
    }
  }
  const ok = want.length === actual.length && badChecksums.length === 0 && differences.length === 0;
  return {
    ok,
    expectedLength: want.length,
    actualLength: actual.length,
    badChecksums,
    differences,
    text: ok ? '' : describe(want, actual, badChecksums, differences),
  };
}

function describe(want: Uint8Array, actual: Uint8Array, badChecksums: readonly number[], differences: readonly ByteDifference[]): string {
  const lines: string[] = [];
  if (want.length !== actual.length) lines.push(`length: expected ${want.length}, actual ${actual.length}`);
  for (const at of badChecksums) lines.push(`IPv4 header at offset ${at}: checksum does not verify`);
  // One line per run of differing bytes within the same field.
  let i = 0;
  while (i < differences.length && lines.length < MAX_LINES) {
    const first = differences[i]!;
    let j = i;
    while (j + 1 < differences.length && differences[j + 1]!.offset === differences[j]!.offset + 1 && differences[j + 1]!.field === first.field) j++;
    const last = differences[j]!;
    const range = first.offset === last.offset ? `${first.offset}` : `${first.offset}-${last.offset}`;
    lines.push(
      `offset ${range} (${first.field}): expected ${excerpt(want, first.offset, last.offset + 1)}, actual ${excerpt(actual, first.offset, last.offset + 1)}`,
    );
    i = j + 1;
  }
  if (i < differences.length) lines.push(`... and ${differences.length - i} more differing bytes`);
  return lines.join('\n');
}

/** Version, source and destination of a packet: what Graybox matches the queue head on. */
function addressKey(p: Uint8Array): string {
  const version = (p[0] ?? 0) >> 4;
  if (version === 4 && p.length >= 20) return `4:${toHex(p, 12, 20)}`;
  if (version === 6 && p.length >= 40) return `6:${toHex(p, 8, 40)}`;
  return `?:${toHex(p, 0, Math.min(p.length, 8))}`;
}

export interface ExchangeResult {
  readonly ok: boolean;
  /** Comparisons made, by expected packet index. */
  readonly comparisons: readonly { readonly index: number; readonly comparison: Comparison }[];
  /** Expected packets no actual packet was compared with. */
  readonly missing: readonly number[];
  /** Actual packets that did not match the queue head's version and addresses (Graybox ignores them). */
  readonly ignored: readonly number[];
  readonly text: string;
}

/**
 * Graybox's matchingAndOrder rule: expected packets form a queue; an actual packet is compared
 * with the head only when its IP version and addresses equal the head's, otherwise it is ignored.
 * Missing expected packets fail; ignored actual packets are reported but do not fail.
 */
export function compareExchange(expected: readonly ExpectedPacket[], actual: readonly Uint8Array[]): ExchangeResult {
  const comparisons: { index: number; comparison: Comparison }[] = [];
  const ignored: number[] = [];
  let head = 0;
  actual.forEach((packet, k) => {
    const next = expected[head];
    if (next === undefined || addressKey(next.bytes) !== addressKey(packet)) {
      ignored.push(k);
      return;
    }
    comparisons.push({ index: head, comparison: comparePacket(next, packet) });
    head++;
  });
  const missing: number[] = [];
  for (let i = head; i < expected.length; i++) missing.push(i);
  const ok = missing.length === 0 && comparisons.every((c) => c.comparison.ok);
  const lines: string[] = [];
  for (const { index, comparison } of comparisons) {
    if (!comparison.ok) lines.push(`expected packet ${index}:\n  ${comparison.text.replace(/\n/g, '\n  ')}`);
  }
  if (missing.length > 0) lines.push(`missing expected packet(s) ${missing.join(', ')} (${missing.map((i) => addressKey(expected[i]!.bytes)).join(', ')})`);
  if (ignored.length > 0) lines.push(`ignored actual packet(s) ${ignored.join(', ')} (${ignored.map((i) => addressKey(actual[i]!)).join(', ')})`);
  return { ok, comparisons, missing, ignored, text: lines.join('\n') };
}
