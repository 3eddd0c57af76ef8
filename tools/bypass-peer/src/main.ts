#!/usr/bin/env node
// bypass-peer: plays a NAT64 gateway's side of a bypass tunnel in a test namespace (root).
//
//   bypass-peer bridge --server 203.0.113.2 --local 203.0.113.1 --prefix 2001:db8:64::/96 \
//     --persistent-secret HEX --transient-secret HEX --message TEXT [--tap bpgw] [--mtu 1400]
//       creates the TAP device with the derived MAC and fe80::1, routes PREFIX::SERVER into it,
//       sends one offer, then bridges; prints one JSON event per line on stdout.
//   bypass-peer forge --server S --local L --vni N [--no-option] [--audit] [--count 1]
//       sends an IPv6 UDP datagram in a bypass packet with the given VNI (forged-frame tests), or
//       with --audit as an audit mirror copy.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BypassEncapsulator, Geneve, auditMirrorOption, deriveGatewayMac, deriveVni, formatMac, writeEthernetHeader } from '@nat64/geneve';
import { openTap } from '@nat64/tun';
import { BypassPeer } from './peer.js';

const LINK_LOCAL = 'fe80::1';

function ipv4(text: string): number {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) throw new Error(`not an IPv4 address: ${text}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function ipv6(text: string): Uint8Array {
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) throw new Error(`not an IPv6 address: ${text}`);
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >>> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function targetOf(prefix: string, server: number): Uint8Array {
  const [address, length] = prefix.split('/');
  if (length !== '96') throw new Error('--prefix must be a /96');
  const target = ipv6(address!);
  target[12] = server >>> 24;
  target[13] = (server >>> 16) & 0xff;
  target[14] = (server >>> 8) & 0xff;
  target[15] = server & 0xff;
  return target;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function bridge(values: Record<string, string | boolean | undefined>): Promise<void> {
  const server = ipv4(String(values.server));
  const target = targetOf(String(values.prefix), server);
  const vni = deriveVni(Buffer.from(String(values['persistent-secret']), 'hex'), server);
  const mac = deriveGatewayMac(Buffer.from(String(values['transient-secret']), 'hex'), server);
  const name = String(values.tap ?? 'bpgw');
  const device = openTap({ name, mtu: Number(values.mtu ?? 1400), up: false });
  writeFileSync(`/proc/sys/net/ipv6/conf/${device.name}/addr_gen_mode`, '1');
  ip('link', 'set', 'dev', device.name, 'address', formatMac(mac));
  ip('link', 'set', 'dev', device.name, 'up');
  ip('-6', 'addr', 'add', `${LINK_LOCAL}/64`, 'dev', device.name, 'nodad');
  ip('-6', 'route', 'add', `${ipv6Text(target)}/128`, 'dev', device.name);
  const print = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
  const peer = new BypassPeer({
    server: String(values.server),
    local: String(values.local),
    vni,
    mac,
    linkLocal: ipv6(LINK_LOCAL),
    target,
    message: String(values.message ?? ''),
    device,
    onEvent: print,
  });
  await peer.start();
  print({ event: 'identity', vni, mac: formatMac(mac), device: device.name });
  peer.offer();
  const stop = () => {
    print({ event: 'counts', counts: Object.fromEntries(peer.counts) });
    peer.close();
  };
  // A gateway repeats its offers on a schedule; tests ask for one with SIGUSR1.
  process.on('SIGUSR1', () => peer.offer());
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function forge(values: Record<string, string | boolean | undefined>): Promise<void> {
  const server = ipv4(String(values.server));
  const encapsulator = new BypassEncapsulator({ vni: Number(values.vni), message: values['no-option'] === true ? null : '' });
  // A UDP datagram 2001:db8::66 -> PREFIX::SERVER port 9 (discard), checksum left zero: it must
  // never get as far as the server's stack anyway.
  const target = targetOf(String(values.prefix ?? '64:ff9b::/96'), server);
  const frame = Buffer.alloc(14 + 48);
  writeEthernetHeader(frame, 0, Buffer.from('020000000001', 'hex'), Buffer.from('020000000066', 'hex'), 0x86dd);
  frame[14] = 0x60;
  frame.writeUInt16BE(8, 18);
  frame[20] = 17;
  frame[21] = 64;
  frame.set(ipv6('2001:db8::66'), 22);
  frame.set(target, 38);
  frame.writeUInt16BE(9, 54 + 2);
  frame.writeUInt16BE(8, 54 + 4);
  let packet = Buffer.alloc(encapsulator.headerLength + frame.length);
  frame.copy(packet, encapsulator.headerLength);
  encapsulator.encapsulate(packet, encapsulator.headerLength, frame.length);
  if (values.audit === true) {
    // An audit mirror copy: the critical option after the others, C set, Opt Len grown to match.
    const option = Buffer.alloc(auditMirrorOption.encodingLength({ message: 'mirrored for audit' }));
    auditMirrorOption.encode({ message: 'mirrored for audit' }, option);
    const optionsEnd = Geneve.HEADER_LENGTH + (packet[0]! & 0x3f) * 4;
    packet = Buffer.concat([packet.subarray(0, optionsEnd), option, packet.subarray(optionsEnd)]);
    packet[0] = (packet[0]! & 0xc0) | ((optionsEnd - Geneve.HEADER_LENGTH + option.length) / 4);
    packet[1] = packet[1]! | 0x40;
  }
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, String(values.local), () => resolve()));
  for (let i = 0; i < Number(values.count ?? 1); i++) {
    await new Promise<void>((resolve, reject) => socket.send(packet, Geneve.PORT, String(values.server), (error) => (error ? reject(error) : resolve())));
  }
  socket.close();
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: 'string' },
    local: { type: 'string' },
    prefix: { type: 'string' },
    'persistent-secret': { type: 'string' },
    'transient-secret': { type: 'string' },
    message: { type: 'string' },
    tap: { type: 'string' },
    mtu: { type: 'string' },
    vni: { type: 'string' },
    'no-option': { type: 'boolean' },
    audit: { type: 'boolean' },
    count: { type: 'string' },
  },
});

try {
  if (positionals[0] === 'bridge') await bridge(values);
  else if (positionals[0] === 'forge') await forge(values);
  else throw new Error('usage: bypass-peer bridge|forge --server IPV4 --local IPV4 ...');
} catch (error) {
  console.error(`bypass-peer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
