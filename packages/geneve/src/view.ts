// The reusable parsed view the packet-path decoder fills: offsets into the receive buffer and the
// fields of our options as numbers, so a receiver parses each packet once and allocates nothing.
import type { DecapStatus } from './status.js';
import { DecodeView } from './structure.js';

/**
 * The header fields of DecodeView, and ours. Fields past the point where decoding stopped keep
 * their reset values: after a drop, trust only `status` and `failOffset`; after DATA or CONTROL,
 * everything is filled. With criticalFlag, criticalOptions shows a C mismatch.
 */
export class GeneveView extends DecodeView<DecapStatus> {
  oam = false;
  /** The C bit as received. Never consulted for decisions (see decap.ts). */
  criticalFlag = false;
  optionsOffset = 0;
  optionsLength = 0;
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

  override reset(buf: Uint8Array, start: number): void {
    super.reset(buf, start);
    this.oam = false;
    this.criticalFlag = false;
    this.optionsOffset = start;
    this.optionsLength = 0;
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
