// Enumeration of sessions for `nat64-gateway sessions`: a cursor walks the session slots in chunks, so the
// caller can yield to the datapath between chunks. Sessions created or deleted meanwhile may or may not be
// reported; a deleted session is never reported after its deletion.

import { readU32 } from '@nat64/wire';
import { IMPL } from './constants.js';
import type { Core } from './core.js';
import { Nat64Error } from './errors.js';

/** Which sessions to enumerate; every given field must match. */
export interface SessionFilter {
  readonly protocol?: number;
  /** 16 bytes. */
  readonly clientAddress?: Uint8Array;
  readonly natAddress?: number;
  /** The NAT port (ICMP: identifier); with natAddress, one NAT endpoint. */
  readonly natPort?: number;
  readonly serverAddress?: number;
}

/** Yields matching session handles chunk by chunk; handles are valid until the table next changes. */
export class SessionCursor {
  private position = 0;
  private readonly protocol: number;
  private readonly byClient: boolean;
  private readonly c0: number = 0;
  private readonly c1: number = 0;
  private readonly c2: number = 0;
  private readonly c3: number = 0;
  private readonly natAddress: number;
  private readonly natPort: number;
  private readonly serverAddress: number;

  constructor(
    private readonly core: Core,
    filter: SessionFilter = {},
  ) {
    this.protocol = filter.protocol ?? -1;
    this.natAddress = filter.natAddress ?? -1;
    this.natPort = filter.natPort ?? -1;
    this.serverAddress = filter.serverAddress ?? -1;
    this.byClient = filter.clientAddress !== undefined;
    if (filter.clientAddress !== undefined) {
      if (filter.clientAddress.length !== 16) throw new Nat64Error('BAD_ADDRESS', 'clientAddress must hold 16 bytes');
      this.c0 = readU32(filter.clientAddress, 0);
      this.c1 = readU32(filter.clientAddress, 4);
      this.c2 = readU32(filter.clientAddress, 8);
      this.c3 = readU32(filter.clientAddress, 12);
    }
  }

  /** True once every slot has been examined. */
  get done(): boolean {
    return this.position >= this.core.sessions.highWater;
  }

  /**
   * Writes up to out.length matching handles into `out` and returns how many. Examines at most
   * CURSOR_SCAN_BUDGET slots per call, so it may return 0 before `done`.
   */
  next(out: Int32Array): number {
    const s = this.core.sessions;
    const bibs = this.core.bibs;
    const address = this.core.clients.address;
    const end = Math.min(s.highWater, this.position + IMPL.CURSOR_SCAN_BUDGET);
    let n = 0;
    let i = this.position;
    for (; i < end && n < out.length; i++) {
      const protocol = s.protocol[i]!;
      if (protocol === 0) continue;
      if (this.protocol >= 0 && protocol !== this.protocol) continue;
      if (this.serverAddress >= 0 && s.serverAddress[i] !== this.serverAddress) continue;
      const b = s.bib[i]!;
      if (this.natAddress >= 0 && bibs.natAddress[b] !== this.natAddress) continue;
      if (this.natPort >= 0 && bibs.natPort[b] !== this.natPort) continue;
      if (this.byClient) {
        const o = bibs.client[b]! * 4;
        if (address[o] !== this.c0 || address[o + 1] !== this.c1 || address[o + 2] !== this.c2 || address[o + 3] !== this.c3) continue;
      }
      out[n++] = i;
    }
    this.position = i;
    return n;
  }
}
