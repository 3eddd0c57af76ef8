import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeIpv4OnlyServices, findIpv4OnlyServices } from '../../src/bypass/listeners.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, remote: string, state: string) =>
  `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n`;
const ANY6 = '00000000000000000000000000000000';

describe('bypass listeners', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function procNet(tables: Record<string, string[]>): string {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-procnet-'));
    dirs.push(dir);
    for (const name of ['tcp', 'tcp6', 'udp', 'udp6']) writeFileSync(join(dir, name), HEADER + (tables[name] ?? []).join(''));
    return dir;
  }

  it('finds IPv4 listeners with no IPv6 socket on their port, leaving out loopback, clients and our own ports', () => {
    const dir = procNet({
      tcp: [
        row('027100CB:270F', '00000000:0000', '0A'), // 203.0.113.2:9999, IPv4 only
        row('00000000:0050', '00000000:0000', '0A'), // 0.0.0.0:80, also on tcp6
        row('0100007F:1F90', '00000000:0000', '0A'), // 127.0.0.1:8080, local only
        row('027100CB:D431', '017100CB:0050', '01'), // an established client connection
      ],
      tcp6: [row(`${ANY6}:0050`, `${ANY6}:0000`, '0A'), row(`00000000000000000000000001000000:0019`, `${ANY6}:0000`, '0A')],
      udp: [
        row('00000000:0035', '00000000:0000', '07'), // 0.0.0.0:53, IPv4 only
        row('00000000:17C1', '00000000:0000', '07'), // 6081, our own
        row('00000000:C350', '00000000:0000', '07'), // 50000, an ephemeral client socket
      ],
    });
    const found = findIpv4OnlyServices([6081], dir);
    expect(found).toEqual([
      { protocol: 'tcp', address: '203.0.113.2', port: 9999 },
      { protocol: 'udp', address: '0.0.0.0', port: 53 },
    ]);
    expect(describeIpv4OnlyServices(found)).toBe('tcp 203.0.113.2:9999, udp 0.0.0.0:53');
  });

  it('does not count an IPv6 listener on ::1 as reaching bypassed clients', () => {
    const dir = procNet({ tcp: [row('00000000:0019', '00000000:0000', '0A')], tcp6: [row('00000000000000000000000001000000:0019', `${ANY6}:0000`, '0A')] });
    expect(findIpv4OnlyServices([], dir)).toEqual([{ protocol: 'tcp', address: '0.0.0.0', port: 25 }]);
  });

  it('finds nothing where /proc/net cannot be read', () => {
    expect(findIpv4OnlyServices([], '/nonexistent')).toEqual([]);
  });
});
