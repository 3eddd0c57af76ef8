// Replaying Jool's stateful NAT64 graybox suite against the real gateway on a real TUN device: the
// settings each case assumes (as a config file for nat64-gateway), the IPv4 router's answer a case may
// need (peerAction), and a driver for gateway-packet-io.py, which injects packets on the kernel side
// of the TUN and collects what the gateway writes back.

import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { GrayboxCase, GrayboxSuite } from '@nat64/graybox';
import type { Namespace } from '@nat64/netlab';
import { internetChecksum } from '@nat64/wire';

export const PACKET_IO = join(import.meta.dirname, 'gateway-packet-io.py');

interface SuiteConfig {
  pool6: string;
  translatorAddresses: { ipv6: string; ipv4: string };
  pool4: { address: string; protocol: string; ports: string }[];
  staticBib: { protocol: string; ipv6: string; ipv4: string }[];
}

/** "2001:db8::5#2000" -> "[2001:db8::5]:2000", "192.0.2.2#2000" -> "192.0.2.2:2000". */
function endpoint(text: string, ipv6: boolean): string {
  const [address, port] = text.split('#');
  return ipv6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The gateway configuration file for a case (its own settings over the suite's baseline). */
export function suiteConfigFile(suite: GrayboxSuite, c: GrayboxCase, control: string): Record<string, unknown> {
  const config = suite.config as unknown as SuiteConfig;
  const pool: Record<string, string> = {};
  for (const entry of config.pool4) {
    pool['address'] = entry.address;
    pool[entry.protocol.toLowerCase()] = entry.ports;
  }
  const globals = c.preconditions.settings.globals;
  const mtus = c.preconditions.settings.linkMtu;
  return {
    prefix: config.pool6,
    // The suite's hosts are in documentation ranges, which RFC 6052 3.1 refuses under 64:ff9b::/96.
    refuseNonGlobalUnderWkp: false,
    pool4: [pool],
    staticBib: config.staticBib.map((e) => ({ protocol: e.protocol.toLowerCase(), ipv6: endpoint(e.ipv6, true), ipv4: endpoint(e.ipv4, false) })),
    translation: {
      ipv6Address: config.translatorAddresses.ipv6.split('/')[0],
      ipv4Address: config.translatorAddresses.ipv4.split('/')[0],
      lowestIpv6Mtu: Number(globals['lowest-ipv6-mtu'] ?? 1280),
      ipv4NextHopMtu: mtus['translatorIpv4Side'] ?? 1500,
      ipv6NextHopMtu: mtus['translatorIpv6Side'] ?? 1500,
      zeroizeTrafficClass: globals['zeroize-traffic-class'] === true,
      icmpErrorsFromReporter: globals['source-icmpv6-errors-better'] !== false,
      icmpErrorRate: { perSecond: 100_000, burst: 100_000 },
    },
    // The suite compares every packet the translator writes; handoff datagrams are not part of it.
    handoff: { mode: 'off' },
    control,
    logLevel: 'warn',
  };
}

/**
 * What the suite's IPv4 router (192.0.2.5) answers about `quoted`: ICMPv4 Destination Unreachable
 * `code`, TTL 64, TOS 0xc0, DF clear, quoting the whole packet (misc.issue132's peerAction).
 */
export function routerUnreachable(quoted: Uint8Array, code: number): Uint8Array {
  const total = 28 + quoted.length;
  const p = new Uint8Array(total);
  p.set([0x45, 0xc0, total >> 8, total & 0xff, 0x12, 0x34, 0, 0, 64, 1, 0, 0, 192, 0, 2, 5], 0);
  p.set(quoted.subarray(12, 16), 16);
  const header = internetChecksum(p, 0, 20);
  p.set([header >> 8, header & 0xff], 10);
  p.set([3, code], 20);
  p.set(quoted, 28);
  const icmp = internetChecksum(p, 20, total);
  p.set([icmp >> 8, icmp & 0xff], 22);
  return p;
}

/** A running gateway-packet-io.py on one interface. */
export class PacketIo {
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }

  static async start(namespace: Namespace, device: string): Promise<PacketIo> {
    const io = new PacketIo(namespace.spawn('python3', [PACKET_IO, device]));
    await io.next();
    return io;
  }

  private next(): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gateway-packet-io.py did not answer')), 15_000);
      this.pending.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  /**
   * Sends the packets into the gateway and returns what it wrote: once `expect` packets came (plus a
   * short settle for extras), or when `waitMs` ran out.
   */
  async exchange(packets: readonly Uint8Array[], expect: number, waitMs = 2000): Promise<Uint8Array[]> {
    const answer = this.next();
    this.child.stdin!.write(`${JSON.stringify({ send: packets.map((p) => Buffer.from(p).toString('hex')), expect, waitMs })}\n`);
    const { received } = JSON.parse(await answer) as { received: string[] };
    return received.map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill();
  }
}
