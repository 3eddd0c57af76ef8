// Martian and invalid packets through the built nat64-gateway on a real TUN device: each is injected on
// the kernel side of the device and must come out nowhere (or, where the gateway refuses with an error,
// only as that ICMPv6 error back to its sender), and `nat64-gateway stats` must count it under its reason.
//
//   test process --stdin/stdout--> gateway-packet-io.py --AF_PACKET--> [TUN nat64] <--read/write-- nat64-gateway
//                                  (namespace "gw", IPv6 off: the kernel adds no packets)
//
// Whatever the gateway writes, toward the IPv6 side or the IPv4 side, goes out through the same device, so
// the capture sees both sides. Each check starts from a sound packet that does come out, so a gateway that
// wrote nothing at all would fail.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, labUnavailableReason, waitForLine, type Namespace } from '@nat64/netlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketIo } from './support/gateway-graybox.js';
import { GATEWAY_MAIN, gatewayUnbuiltReason } from './support/gateway-lab.js';
import { gatewayCounters } from './support/handoff-lab.js';
import { corrupted, fragment6, fragments6, icmp4Error, icmp6Error, read16, udp4, udp4WithoutChecksum, udp6 } from './support/raw-packets.js';

const unavailable = labUnavailableReason(['python3']) ?? gatewayUnbuiltReason();
if (unavailable) console.log(`martians through a real TUN skipped: ${unavailable}`);

const TUN = 'nat64';
const CLIENT = '2001:db8:1::2';
const PREFIX = '2001:db8:64::/96';
const SERVER = '203.0.113.2';
const SERVER6 = '2001:db8:64::cb00:7102';
const POOL4 = '198.51.100.1';
/** How long a check waits for output that must not come. */
const QUIET_MS = 800;

describe.skipIf(unavailable)('martians and invalid packets through a real TUN', () => {
  let lab: Lab;
  let ns: Namespace;
  let dir: string;
  let control: string;
  let gateway: ChildProcess | undefined;
  let io: PacketIo;

  beforeAll(async () => {
    lab = new Lab('gwmart');
    ns = lab.addNamespace('gw');
    ns.sysctl('net.ipv6.conf.all.disable_ipv6', 1);
    ns.sysctl('net.ipv6.conf.default.disable_ipv6', 1);
    dir = mkdtempSync(join(tmpdir(), 'n64-gwmart-'));
    control = join(dir, 'control.sock');
    const config = join(dir, 'gateway.json');
    writeFileSync(config, JSON.stringify({ prefix: PREFIX, pool4: [POOL4], handoff: { mode: 'off' }, control, logLevel: 'info' }));
    gateway = ns.spawn('node', [GATEWAY_MAIN, 'run', '--config', config, '--tun', TUN]);
    await waitForLine(gateway.stderr!, /nat64-gateway running/, 15_000);
    io = await PacketIo.start(ns, TUN);
  });

  afterAll(async () => {
    io?.close();
    if (gateway !== undefined) {
      const exited = new Promise((resolve) => gateway!.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    lab?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a UDP session from the client: the translated packet (IPv4, from the NAT port) and the server's reply translated back. */
  async function session(clientPort: number): Promise<{ out4: Uint8Array; reply6: Uint8Array; natPort: number }> {
    const [out4] = await io.exchange([udp6(CLIENT, SERVER6, clientPort, 53)], 1);
    expect((out4?.[0] ?? 0) >> 4, 'the sound packet leaves as IPv4').toBe(4);
    const natPort = read16(out4!, 20);
    const [reply6] = await io.exchange([udp4(SERVER, POOL4, 53, natPort)], 1);
    expect((reply6?.[0] ?? 0) >> 4, 'the reply comes back as IPv6').toBe(6);
    return { out4: out4!, reply6: reply6!, natPort };
  }

  /** Counter increases since `before`, for the names given. */
  async function rise(before: Record<string, number>, names: readonly string[]): Promise<Record<string, number>> {
    const after = await gatewayCounters(GATEWAY_MAIN, control);
    return Object.fromEntries(names.map((name) => [name, (after[name] ?? NaN) - (before[name] ?? 0)]));
  }

  it('drops martian sources, zero UDP checksums and corrupted ICMP errors: nothing comes out, each is counted', async () => {
    const { out4, reply6, natPort } = await session(41_000);
    const error6 = icmp6Error(CLIENT, SERVER6, 1, 4, reply6);
    const error4 = icmp4Error(SERVER, POOL4, 3, 3, out4);
    // The sound errors are translated, so what follows is dropped for what was spoiled, nothing else.
    expect(await io.exchange([error6], 1)).toHaveLength(1);
    expect(await io.exchange([error4], 1)).toHaveLength(1);

    const zero6 = udp6(CLIENT, SERVER6, 41_001, 53);
    zero6.set([0, 0], 46);
    const martians = [
      ...['::', '::1', 'fe80::1', 'ff02::1'].map((src) => udp6(src, SERVER6, 41_002, 53)),
      ...['0.0.0.1', '127.0.0.1', '224.0.0.1', '255.255.255.255'].map((src) => udp4(src, POOL4, 53, natPort)),
      udp4(POOL4, POOL4, 53, natPort),
      zero6,
      corrupted(error6),
      corrupted(error4),
      udp4WithoutChecksum(SERVER, POOL4, 53, natPort, true),
    ];
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    expect(await io.exchange(martians, 0, QUIET_MS)).toEqual([]);
    expect(
      await rise(before, [
        'gateway.martianSourceIpv6',
        'gateway.martianSourceIpv4',
        'gateway.sourceInPool4',
        'xlat.udpChecksumZeroIpv6',
        'xlat.badIcmpChecksum',
        'gateway.udpZeroChecksumFragments',
        'gateway.forwarded64',
        'gateway.forwarded46',
        'table.sessionsCreated',
      ]),
    ).toEqual({
      'gateway.martianSourceIpv6': 4,
      'gateway.martianSourceIpv4': 4,
      'gateway.sourceInPool4': 1,
      'xlat.udpChecksumZeroIpv6': 1,
      'xlat.badIcmpChecksum': 2,
      'gateway.udpZeroChecksumFragments': 1,
      'gateway.forwarded64': 0,
      'gateway.forwarded46': 0,
      'table.sessionsCreated': 0,
    });
  });

  it('refuses martian destinations and faulty fragments with an ICMPv6 error to the sender, and sends nothing to IPv4', async () => {
    await session(42_000);
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const whole = udp6(CLIENT, SERVER6, 42_001, 53, new Uint8Array(64).fill(5));
    const refused = [
      // 127.0.0.1 and 255.255.255.255 under a network-specific prefix.
      udp6(CLIENT, '2001:db8:64::7f00:1', 42_002, 53),
      udp6(CLIENT, '2001:db8:64::ffff:ffff', 42_002, 53),
      // A non-last fragment of 21 bytes; a fragment ending past 65,535.
      fragment6(whole, 0, whole.subarray(40, 61), true, 0x51),
      fragment6(whole, 65_528, new Uint8Array(16), false, 0x52),
    ];
    const answers = await io.exchange(refused, refused.length, 2000);
    expect(answers.map((p) => [p[0]! >> 4, p[40], p[41]])).toEqual([
      [6, 1, 1],
      [6, 1, 1],
      [6, 4, 0],
      [6, 4, 0],
    ]);
    expect(await rise(before, ['gateway.martianDestination', 'gateway.badFragmentLength', 'gateway.fragmentTooLong', 'gateway.forwarded64'])).toEqual({
      'gateway.martianDestination': 2,
      'gateway.badFragmentLength': 1,
      'gateway.fragmentTooLong': 1,
      'gateway.forwarded64': 0,
    });
  });

  it('drops the rest of a datagram once two of its fragments overlap (RFC 5722)', async () => {
    await session(43_000);
    const whole = udp6(CLIENT, SERVER6, 43_000, 53, new Uint8Array(64).fill(6));
    const [first, second] = fragments6(whole, [32], 0x0bad_0001);
    expect(await io.exchange([first!], 1), 'the first fragment is sound and leaves').toHaveLength(1);
    const before = await gatewayCounters(GATEWAY_MAIN, control);
    const overlapping = fragment6(whole, 24, whole.subarray(40 + 24, 40 + 40), true, 0x0bad_0001);
    expect(await io.exchange([overlapping, second!], 0, QUIET_MS)).toEqual([]);
    expect(await rise(before, ['gateway.fragmentOverlap', 'fragments.datagramsOverlapping', 'gateway.forwarded64'])).toEqual({
      'gateway.fragmentOverlap': 2,
      'fragments.datagramsOverlapping': 1,
      'gateway.forwarded64': 0,
    });
    // The same datagram under another identification, whole, still goes through.
    const again = fragments6(whole, [32], 0x0bad_0002);
    expect(await io.exchange(again, 2)).toHaveLength(2);
  });
});
