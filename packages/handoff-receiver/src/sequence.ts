// Where a reliable message (CREATED, DELETED) stands against what one gateway epoch has applied:
// everything up to `cumulative` is applied. Sequence numbers are 32-bit and compared with
// serial-number arithmetic (RFC 1982), so an epoch may wrap.

export type SequenceVerdict =
  /** The next one: apply it. */
  | 'next'
  /** Applied before: acknowledge again, apply nothing. */
  | 'duplicate'
  /** Beyond a gap, inside the window: hold it until the gap fills (effects stay in order). */
  | 'ahead'
  /** Past the window we advertised: drop without acknowledging. */
  | 'beyond-window';

export function classifySequence(cumulative: number, sequence: number, window: number): SequenceVerdict {
  const distance = (sequence - cumulative) | 0;
  if (distance <= 0) return 'duplicate';
  if (distance === 1) return 'next';
  return distance <= window ? 'ahead' : 'beyond-window';
}

export function nextSequence(sequence: number): number {
  return (sequence + 1) >>> 0;
}
