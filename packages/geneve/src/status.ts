// What the packet-path decoder (decap.ts) decided, as one small integer: two accept verdicts,
// then one drop reason per distinct cause, so a receiver counts drops in a flat array indexed by
// status and names them from DECAP_STATUS_NAMES when it logs or reports.
import { codeNames, type ValueOf } from '@nat64/wire';
import { StructureFailure } from './structure.js';

export const DecapStatus = {
  /** Forward: a data packet whose inner IPv4 packet goes to the host stack. */
  DATA: 0,
  /** Accept: a control packet (O bit); its payload, possibly empty, is a handoff datagram. */
  CONTROL: 1,
  ...StructureFailure,
  /** Drop: an option we do not understand has its critical bit set (RFC 8926 §3.5: MUST drop). */
  UNKNOWN_CRITICAL: 6,
  /** Drop: one of our options is too short or holds an undefined value (options §3, §4). */
  MALFORMED_OPTION: 7,
  /** Drop: one of our options appears twice (options §3, §4). */
  DUPLICATE_OPTION: 8,
  /** Drop: the VNI is not the one this receiver is configured for. */
  VNI_MISMATCH: 9,
  /** Drop: Protocol Type is not IPv4 in a data packet, or not ours in a control packet (options §5). */
  BAD_PROTOCOL: 10,
  /** Drop: the payload of a data packet does not start with an IPv4 header. */
  BAD_INNER: 11,
  /** Drop: authentication is required and the packet has no auth option (options §4). */
  AUTH_MISSING: 12,
  /** Drop: the auth option names a Key ID the receiver does not hold. */
  AUTH_UNKNOWN_KEY: 13,
  /** Drop: the tag does not verify. */
  AUTH_FAILED: 14,
} as const;
export type DecapStatus = ValueOf<typeof DecapStatus>;

/** Number of distinct statuses: the length of a per-status counter array. */
export const DECAP_STATUS_COUNT = Object.keys(DecapStatus).length;

/** Names for logs and counter reports, indexed by status. */
export const DECAP_STATUS_NAMES = codeNames(DecapStatus);

export function isDrop(status: DecapStatus): boolean {
  return status > DecapStatus.CONTROL;
}
