// The reusable parsed view the packet-path decoder fills: offsets into the receive buffer and the
// fields of our options as numbers, so a receiver parses each packet once and allocates nothing.
import type { DecapStatus } from './status.js';

/**
 * One per receive loop, reused for every packet. Offsets are absolute positions in `buf`. Fields
 * past the point where decoding stopped keep their reset values: after a drop, trust only
 * `status` and `failOffset`; after DATA or CONTROL, everything is filled.
 */
export class GeneveView {
  /** The buffer of the last decode; the view holds a reference, never a copy. */
  buf: Uint8Array = new Uint8Array(0);
  status: DecapStatus = 0;
  /** Where decoding found the problem, for a debug log; -1 when it did not fail. */
  failOffset = -1;

  /** Start of the Geneve header. */
  start = 0;
  /** Raw second octet: O, C and the reserved bits, for anomaly logs. */
  flags = 0;
  oam = false;
  /** The C bit as received. Never consulted for decisions (see decap.ts). */
  criticalFlag = false;
  protocolType = 0;
  vni = 0;
  optionsOffset = 0;
  optionsLength = 0;
  /** Number of critical options, understood or not; with criticalFlag it shows a C mismatch. */
  criticalOptions = 0;
  /** Non-critical options we do not understand, skipped as RFC 8926 §3.5 allows. */
  skippedOptions = 0;
  payloadOffset = 0;
  payloadLength = 0;

  hasMapping = false;
  protocol = 0;
  event = 0;
  natAddress = 0;
  natPort = 0;
  clientPort = 0;
  /** Offset in `buf` of the 16-byte client IPv6 address; copy it out with copyClientAddress. */
  clientAddressOffset = 0;
  creationTimeUs = 0;

  hasAuth = false;
  authKeyId = 0;
  /** Offset in `buf` of the 16-byte tag. */
  authTagOffset = 0;

  reset(buf: Uint8Array, start: number): void {
    this.buf = buf;
    this.status = 0;
    this.failOffset = -1;
    this.start = start;
    this.flags = 0;
    this.oam = false;
    this.criticalFlag = false;
    this.protocolType = 0;
    this.vni = 0;
    this.optionsOffset = start;
    this.optionsLength = 0;
    this.criticalOptions = 0;
    this.skippedOptions = 0;
    this.payloadOffset = start;
    this.payloadLength = 0;
    this.hasMapping = false;
    this.protocol = 0;
    this.event = 0;
    this.natAddress = 0;
    this.natPort = 0;
    this.clientPort = 0;
    this.clientAddressOffset = 0;
    this.creationTimeUs = 0;
    this.hasAuth = false;
    this.authKeyId = 0;
    this.authTagOffset = 0;
  }

  /** Copies the mapping's client IPv6 address into `out` at `offset` (16 bytes). */
  copyClientAddress(out: Uint8Array, offset = 0): void {
    for (let i = 0; i < 16; i++) out[offset + i] = this.buf[this.clientAddressOffset + i]!;
  }
}
