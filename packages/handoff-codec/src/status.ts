// What inspectDatagram() concludes about a datagram: OK or the one problem a receiver counts it
// under (§6.1 lists the checks in this order). Codes are dense small integers so a receiver can
// keep its counters in an array indexed by status.

import type { ValueOf } from '@nat64/wire';

export const DecodeStatus = {
  OK: 0,
  /** The datagram ends before its header does, or before its Length field says it does. */
  TRUNCATED: 1,
  /** Version is not 1: counted and ignored, never fatal (§6.1). */
  UNKNOWN_VERSION: 2,
  /** Type is not one of §5.2: counted and ignored (§6.1). */
  UNKNOWN_TYPE: 3,
  /** Length is below the datagram length, or is not the fixed size of HELLO-ACK or ANSWER, or is
   * too small for the fixed part of CREATED, DELETED, RELEASE or ACK. */
  LENGTH_MISMATCH: 4,
  /** Flag A is set but Length leaves no room for a tag after the header. */
  TAG_MISSING: 5,
  /** Count is zero (CREATED, DELETED, RELEASE), or the entries or blocks do not fill the body exactly. */
  BAD_COUNT: 6,
  /** ACK with more than 16 blocks. */
  TOO_MANY_BLOCKS: 7,
  /** HELLO, QUERY or CLIENT-QUERY shorter than its minimum length, the size of its response (§6.8). */
  UNDERSIZED: 8,
} as const;
export type DecodeStatus = ValueOf<typeof DecodeStatus>;

/** Codes of HandoffDecodeError: every failing status, plus an entry time past 2^53 µs (§5.3). */
export type DecodeErrorCode = Exclude<keyof typeof DecodeStatus, 'OK'> | 'TIME_RANGE';

const NAMES: (keyof typeof DecodeStatus)[] = [];
for (const [name, status] of Object.entries(DecodeStatus)) NAMES[status] = name as keyof typeof DecodeStatus;

/** The name of a status ('OK', 'TRUNCATED', ...), for counters and logs. */
export function decodeStatusName(status: DecodeStatus): keyof typeof DecodeStatus {
  return NAMES[status]!;
}

/**
 * The counter under which either side (agent and receiver) counts a datagram that inspection refused,
 * by status: the drops and ignores of §6.1 that both ends name alike.
 */
export const DECODE_STATUS_COUNTER = {
  [DecodeStatus.TRUNCATED]: 'truncated',
  [DecodeStatus.UNKNOWN_VERSION]: 'unknownVersion',
  [DecodeStatus.UNKNOWN_TYPE]: 'unknownType',
  [DecodeStatus.LENGTH_MISMATCH]: 'lengthMismatch',
  [DecodeStatus.TAG_MISSING]: 'tagMissing',
  [DecodeStatus.BAD_COUNT]: 'badCount',
  [DecodeStatus.TOO_MANY_BLOCKS]: 'tooManyBlocks',
  [DecodeStatus.UNDERSIZED]: 'undersized',
} as const;
