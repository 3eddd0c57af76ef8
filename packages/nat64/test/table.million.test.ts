// One million sessions in one table: every one is found both ways. Time is not asserted (see bench/).

import { describe, expect, it } from 'vitest';
import { Nat64Table, PROTOCOL } from '@nat64/nat64';
import { SECRET, SERVER_1, TestClock, v4 } from './support.js';

const SESSIONS = 1_000_000;
const CLIENTS = 4000;
const PORTS_PER_CLIENT = SESSIONS / CLIENTS; // 250

describe('table (one million sessions)', () => {
  it('holds one million sessions and finds every one outbound and inbound', () => {
    const clock = new TestClock();
    // 32 pool addresses of 64512 ports: room for the worst case, one mapping per session.
    const pool4 = Array.from({ length: 32 }, (_, i) => ({ address: v4(203, 0, 113, 1 + i) }));
    const table = new Nat64Table({ pool4, clock: clock.read, secret: SECRET, maxSessions: SESSIONS, maxSessionsPerClient: 1024 });
    const address = new Uint8Array(16);
    address.set([0x20, 0x01, 0x0d, 0xb8]);
    const handles = new Int32Array(SESSIONS);
    let n = 0;
    for (let c = 0; c < CLIENTS; c++) {
      address[12] = c >>> 8;
      address[13] = c & 0xff;
      for (let p = 0; p < PORTS_PER_CLIENT; p++) {
        handles[n++] = table.outbound(PROTOCOL.UDP, address, 0, 10_000 + p, SERVER_1 + (p & 15), 443);
      }
    }
    expect(table.sessionCount).toBe(n);
    let missing = 0;
    n = 0;
    for (let c = 0; c < CLIENTS; c++) {
      address[12] = c >>> 8;
      address[13] = c & 0xff;
      for (let p = 0; p < PORTS_PER_CLIENT; p++, n++) {
        const h = handles[n]!;
        if (h < 0) missing++;
        else if (
          table.lookupOutbound(PROTOCOL.UDP, address, 0, 10_000 + p, SERVER_1 + (p & 15), 443) !== h ||
          table.lookupInbound(PROTOCOL.UDP, SERVER_1 + (p & 15), 443, table.natAddress(h), table.natPort(h)) !== h
        ) {
          missing++;
        }
      }
    }
    expect(missing).toBe(0);
  }, 120_000);
});
