// What the bypass decoder (bypass-decap.ts) decided, as one small integer: FRAME is the only
// verdict that forwards, AUDIT_MIRROR is accepted but never forwarded, every other value is one
// drop reason, so endpoints count in a flat array indexed by status (bypass §7).
import { codeNames, type ValueOf } from '@nat64/wire';
import { StructureFailure } from './structure.js';

export const BypassStatus = {
  /** Forward: an Ethernet frame carrying IPv6, from the tunnel's VNI. */
  FRAME: 0,
  /** Not forwarded: the packet carries the audit mirror option (bypass §3.2); count, maybe log. */
  AUDIT_MIRROR: 1,
  ...StructureFailure,
  /** Drop: a critical option other than the audit mirror (RFC 8926 §3.5). */
  UNKNOWN_CRITICAL: 6,
  /** Drop: the VNI is not the tunnel's (bypass §5.1). */
  VNI_MISMATCH: 7,
  /** Drop: the O bit is set; bypass defines no control packets (bypass §4). */
  OAM: 8,
  /** Drop: Protocol Type is not 0x6558 (bypass §4). */
  BAD_PROTOCOL: 9,
  /** Drop: the payload is shorter than an Ethernet header or its EtherType is not IPv6 (bypass §4). */
  BAD_INNER: 10,
  /** Drop: a packet from the server carries the bypass option (bypass §3.1: the gateway SHOULD discard). */
  OPTION_FROM_SERVER: 11,
} as const;
export type BypassStatus = ValueOf<typeof BypassStatus>;

export const BYPASS_STATUS_COUNT = Object.keys(BypassStatus).length;

/** Names for logs and counter reports, indexed by status. */
export const BYPASS_STATUS_NAMES = codeNames(BypassStatus);

export function isBypassDrop(status: BypassStatus): boolean {
  return status > BypassStatus.AUDIT_MIRROR;
}
