import { describe, expect, it } from 'vitest';
import { PROTOCOL } from '@nat64/nat64';
import { client, NAT_1, NAT_2, newTable, SERVER_1, SERVER_2 } from './support.js';

const { TCP, UDP, ICMP } = PROTOCOL;

function collect(table: ReturnType<typeof newTable>['table'], filter: Parameters<ReturnType<typeof newTable>['table']['cursor']>[0], chunk = 3): number[] {
  const cursor = table.cursor(filter);
  const out = new Int32Array(chunk);
  const found: number[] = [];
  while (!cursor.done) {
    const n = cursor.next(out);
    found.push(...out.subarray(0, n));
  }
  return found.sort((a, b) => a - b);
}

describe('cursor', () => {
  function populated() {
    const made = newTable({ pool4: [{ address: NAT_1 }, { address: NAT_2 }] });
    const { table } = made;
    const handles: Record<string, number> = {};
    for (let c = 1; c <= 6; c++) {
      handles[`udp${c}`] = table.outbound(UDP, client(c), 0, 1000, c % 2 ? SERVER_1 : SERVER_2, 53);
      handles[`tcp${c}`] = table.outbound(TCP, client(c), 0, 2000, SERVER_1, 80, 0x02);
      handles[`icmp${c}`] = table.outbound(ICMP, client(c), 0, 3000, SERVER_2, 0);
    }
    return { ...made, handles };
  }

  it('lists every session in chunks', () => {
    const { table } = populated();
    expect(collect(table, {})).toHaveLength(18);
  });

  it('filters by protocol, client, NAT and server address', () => {
    const { table, handles } = populated();
    expect(collect(table, { protocol: TCP })).toEqual([1, 2, 3, 4, 5, 6].map((c) => handles[`tcp${c}`]!).sort((a, b) => a - b));
    expect(collect(table, { clientAddress: client(3) })).toEqual([handles.udp3!, handles.tcp3!, handles.icmp3!].sort((a, b) => a - b));
    expect(collect(table, { protocol: UDP, serverAddress: SERVER_2 })).toEqual([handles.udp2!, handles.udp4!, handles.udp6!].sort((a, b) => a - b));
    const onNat2 = collect(table, { natAddress: NAT_2 });
    expect(onNat2.every((h) => table.natAddress(h) === NAT_2)).toBe(true);
    expect(onNat2.length + collect(table, { natAddress: NAT_1 }).length).toBe(18);
    expect(collect(table, { clientAddress: client(99) })).toEqual([]);
    const udp3 = handles.udp3!;
    expect(collect(table, { natAddress: table.natAddress(udp3), natPort: table.natPort(udp3) })).toEqual([udp3]);
  });

  it('skips sessions deleted between chunks and ends', () => {
    const { table, handles } = populated();
    const cursor = table.cursor({ protocol: UDP });
    const out = new Int32Array(1);
    expect(cursor.next(out)).toBe(1);
    table.deleteSession(handles.udp6!);
    const rest: number[] = [];
    while (!cursor.done) {
      const n = cursor.next(out);
      rest.push(...out.subarray(0, n));
    }
    expect(rest).toHaveLength(4);
    expect(rest).not.toContain(handles.udp6);
    expect(cursor.next(out)).toBe(0);
  });
});
