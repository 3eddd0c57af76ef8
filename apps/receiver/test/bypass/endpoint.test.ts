import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BypassEncapsulator,
  BypassStatus,
  BypassView,
  NEIGHBOR_FRAME_LENGTH,
  auditMirrorOption,
  decapsulateBypass,
  writeEthernetHeader,
  writeNeighborSolicitation,
} from '@nat64/geneve';
import { manualMicroClock, silentLogger } from '@nat64/service';
import { BypassEndpoint, tunnelMac } from '../../src/bypass/endpoint.js';
import { FakeNetwork, FakeTap } from './support.js';
import { BYPASS_DEFAULTS, type BypassSettings } from '../../src/bypass/settings.js';
import ipaddr from 'ipaddr.js';

const SERVER4 = 0xcb007105; // 203.0.113.5
const TARGET = Uint8Array.from(ipaddr.parse('64:ff9b::cb00:7105').toByteArray());
const LINK_LOCAL = Uint8Array.from(ipaddr.parse('fe80::1').toByteArray());
const GATEWAY_MAC = Uint8Array.from([0xb2, 0x55, 0xe1, 0x78, 0x1c, 0xb0]);
const VNI = 0x48b25c;

function setUp(settings: Partial<BypassSettings> = {}, batches?: { count: number; address: string; packets: Buffer[] }[]) {
  const devices: FakeTap[] = [];
  const sent: { packet: Buffer; port: number; address: string }[] = [];
  const lines: string[] = [];
  const network = new FakeNetwork();
  const queued = { count: 0 };
  const endpoint = new BypassEndpoint({
    settings: { ...BYPASS_DEFAULTS, prefixes: [ipaddr.IPv6.parse('64:ff9b::')], ...settings },
    send: (packet, port, address) => sent.push({ packet: Buffer.from(packet), port, address }),
    sendQueueCount: () => queued.count,
    ...(batches === undefined
      ? {}
      : {
          sendBatch: (buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, _port: number, address: string) => {
            batches.push({
              count,
              address,
              packets: [...offsets.subarray(0, count)].map((offset, i) => Buffer.from(buffer.subarray(offset, offset + lengths[i]!))),
            });
          },
        }),
    logLine: (line) => lines.push(line.slice(27)),
    zone: 'utc',
    clock: manualMicroClock(),
    logger: silentLogger(),
    network,
    openDevice: (name, mtu) => {
      const device = new FakeTap(name, mtu);
      devices.push(device);
      return device;
    },
    localIpv4: () => new Set([SERVER4]),
  });
  endpoint.start();
  return { endpoint, devices, sent, lines, network, queued };
}

function solicitation(options: { source?: Uint8Array; target?: Uint8Array } = {}): Buffer {
  const frame = Buffer.alloc(NEIGHBOR_FRAME_LENGTH);
  writeNeighborSolicitation(frame, 0, { sourceMac: GATEWAY_MAC, source: options.source ?? LINK_LOCAL, target: options.target ?? TARGET });
  return frame;
}

/** An IPv6 UDP datagram from a client to the target, in Ethernet. */
function datagram(): Buffer {
  const frame = Buffer.alloc(14 + 48);
  writeEthernetHeader(frame, 0, Uint8Array.from([2, 0, 0, 0, 0, 5]), GATEWAY_MAC, 0x86dd);
  frame[14] = 0x60;
  frame.writeUInt16BE(8, 18);
  frame[20] = 17;
  frame[21] = 63;
  frame.set(ipaddr.parse('2001:db8::17').toByteArray(), 22);
  frame.set(TARGET, 38);
  return frame;
}

function encapsulate(frame: Uint8Array, vni = VNI, message: string | null = ''): Buffer {
  const encapsulator = new BypassEncapsulator({ vni, message });
  const packet = Buffer.alloc(encapsulator.headerLength + frame.length);
  packet.set(frame, encapsulator.headerLength);
  encapsulator.encapsulate(packet, encapsulator.headerLength, frame.length);
  return packet;
}

describe('bypass endpoint', () => {
  it('brings a tunnel up on an offer, logs it, and hands the solicitation to the kernel through the TAP device', () => {
    const { endpoint, devices, lines, network } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation(), VNI, 'hello from the gateway'), '192.0.2.1');
    expect(network.calls).toEqual(['stale', `up nat64bp0 ${tunnelMac('192.0.2.1', VNI, TARGET)} 64:ff9b::cb00:7105 via fe80::1 table 6400`]);
    expect(lines).toEqual(['Bypass offered by 192.0.2.1 "hello from the gateway"', 'Tunnel up 192.0.2.1 vni 0x48b25c 64:ff9b::cb00:7105 dev nat64bp0']);
    expect(devices).toHaveLength(1);
    expect(devices[0]!.mtu).toBe(1400);
    expect(devices[0]!.written).toEqual([solicitation()]);
    expect(endpoint.counters.get('bypassOffers')).toBe(1);
    expect(endpoint.counters.get('bypassTunnelsUp')).toBe(1);
    expect(endpoint.describeTunnels()).toEqual([{ gateway: '192.0.2.1', vni: VNI, device: 'nat64bp0', address: '64:ff9b::cb00:7105', nextHop: 'fe80::1' }]);
  });

  it('keeps a stable MAC per tunnel, different between gateways', () => {
    expect(tunnelMac('192.0.2.1', VNI, TARGET)).toBe(tunnelMac('192.0.2.1', VNI, TARGET));
    expect(tunnelMac('192.0.2.1', VNI, TARGET)).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
    expect(tunnelMac('192.0.2.2', VNI, TARGET)).not.toBe(tunnelMac('192.0.2.1', VNI, TARGET));
  });

  it('delivers frames of the tunnel, and drops those with another VNI or from a source without a tunnel', () => {
    const { endpoint, devices } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(datagram()), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(datagram(), VNI, null), '192.0.2.1'); // without the option: SHOULD, not MUST
    endpoint.handleDatagram(Buffer.from([0, 0, 0x65]), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(datagram(), VNI ^ 1), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(datagram()), '192.0.2.2');
    expect(devices[0]!.written.slice(1)).toEqual([datagram(), datagram()]);
    expect(endpoint.counters.get('bypassFramesIn')).toBe(3); // the offer and both datagrams
    expect(endpoint.counters.get('bypassVniMismatch')).toBe(1);
    expect(endpoint.counters.get('bypassNoTunnel')).toBe(1);
    expect(endpoint.drops[BypassStatus.TRUNCATED]).toBe(1);
    expect(endpoint.dropCounters(false)).toEqual([{ name: 'bypassDrop.truncated', value: 1, explanation: 'bypass packets dropped: truncated' }]);
  });

  it('counts audit mirror packets and never forwards them, even from the tunnel', () => {
    const { endpoint, devices } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    const option = Buffer.alloc(auditMirrorOption.encodingLength({ message: 'copy' }));
    auditMirrorOption.encode({ message: 'copy' }, option);
    const frame = datagram();
    const mirror = Buffer.concat([Buffer.from([option.length / 4, 0x40, 0x65, 0x58, 0x48, 0xb2, 0x5c, 0]), option, frame]);
    endpoint.handleDatagram(mirror, '192.0.2.1');
    expect(endpoint.counters.get('bypassAuditMirror')).toBe(1);
    expect(devices[0]!.written).toHaveLength(1);
  });

  it('refuses offers for addresses that are not its own, from ::, and beyond the tunnel limit', () => {
    const { endpoint, devices, network } = setUp({ maxTunnels: 1 });
    const other = Uint8Array.from(ipaddr.parse('64:ff9b::cb00:7106').toByteArray());
    const otherPrefix = Uint8Array.from(ipaddr.parse('2001:db8:64::cb00:7105').toByteArray());
    endpoint.handleDatagram(encapsulate(solicitation({ target: other })), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(solicitation({ target: otherPrefix })), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(solicitation({ source: new Uint8Array(16) })), '192.0.2.1');
    expect(endpoint.counters.get('bypassOffersRefused')).toBe(3);
    expect(devices).toHaveLength(0);
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.2');
    expect(endpoint.counters.get('bypassOffersRefused')).toBe(4);
    expect(endpoint.tunnelCount).toBe(1);
    expect(network.calls.filter((call) => call.startsWith('up'))).toHaveLength(1);
  });

  it('refuses an offer whose device cannot be set up, and removes what it started', () => {
    const { endpoint, devices, network, lines } = setUp();
    network.failSetUp = true;
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    expect(devices[0]!.closed).toBe(true);
    expect(network.calls.at(-1)).toBe('down nat64bp0 table 6400');
    expect(endpoint.tunnelCount).toBe(0);
    expect(lines.some((line) => line.startsWith('Tunnel up'))).toBe(false);
  });

  it('logs a repeated offer only when its message changes, and follows a gateway that moves on the link', () => {
    const { endpoint, lines, network } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation(), VNI, 'one'), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(solicitation(), VNI, 'one'), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(solicitation(), VNI, ''), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(solicitation(), VNI, 'two'), '192.0.2.1');
    expect(lines.filter((line) => line.startsWith('Bypass offered'))).toEqual(['Bypass offered by 192.0.2.1 "one"', 'Bypass offered by 192.0.2.1 "two"']);
    endpoint.handleDatagram(encapsulate(solicitation({ source: Uint8Array.from(ipaddr.parse('fe80::2').toByteArray()) })), '192.0.2.1');
    expect(network.calls.at(-1)).toBe('move nat64bp0 via fe80::2');
    expect(endpoint.describeTunnels()[0]!.nextHop).toBe('fe80::2');
    expect(endpoint.counters.get('bypassTunnelsUp')).toBe(1);
  });

  it('replaces the tunnel when the gateway offers another VNI', () => {
    const { endpoint, lines, devices } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    endpoint.handleDatagram(encapsulate(solicitation(), 0x123456), '192.0.2.1');
    expect(lines.slice(2)).toEqual([
      'Tunnel down 192.0.2.1 vni 0x48b25c (replaced by an offer with another VNI or address)',
      'Bypass offered by 192.0.2.1 ""',
      'Tunnel up 192.0.2.1 vni 0x123456 64:ff9b::cb00:7105 dev nat64bp0',
    ]);
    expect(devices[0]!.closed).toBe(true);
    expect(devices[1]!.closed).toBe(false);
  });

  it('sends what the kernel writes into the TAP to the gateway with the VNI and no option, IPv6 only', () => {
    const { endpoint, devices, sent } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    const reply = datagram();
    const arp = Buffer.from(reply);
    arp.writeUInt16BE(0x0806, 12);
    devices[0]!.inject(reply, arp, reply);
    expect(sent).toHaveLength(2);
    const view = new BypassView();
    for (const { packet, port, address } of sent) {
      expect([port, address]).toEqual([6081, '192.0.2.1']);
      expect(decapsulateBypass(packet, 0, packet.length, view, { vni: VNI, direction: 'to-gateway' })).toBe(BypassStatus.FRAME);
      expect(packet.subarray(view.frameOffset)).toEqual(reply);
    }
    expect(endpoint.counters.get('bypassFramesOut')).toBe(2);
    expect(endpoint.counters.get('bypassNotIpv6Out')).toBe(1);
  });

  it('drops a batch from the TAP rather than reuse send slots the socket may still read', () => {
    const { endpoint, devices, sent, queued } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    queued.count = 255;
    devices[0]!.inject(datagram(), datagram());
    expect(sent).toHaveLength(0);
    expect(endpoint.counters.get('bypassSendQueueFull')).toBe(2);
    queued.count = 254;
    devices[0]!.inject(datagram(), datagram());
    expect(sent).toHaveLength(2);
  });

  it('with a batched socket, sends a TAP batch to the gateway in one sendBatch, and writes held frames to the TAP in one writeBatch at flush', () => {
    const batches: { count: number; address: string; packets: Buffer[] }[] = [];
    const { endpoint, devices, sent } = setUp({}, batches);
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    const tap = devices[0]!;
    const writes: number[] = [];
    const writeBatch = tap.writeBatch.bind(tap);
    tap.writeBatch = (buffer, offsets, lengths, count) => {
      writes.push(count);
      return writeBatch(buffer, offsets, lengths, count);
    };
    // Three datagrams in one receive buffer, as the batched socket hands them over.
    const one = encapsulate(datagram());
    const buffer = Buffer.concat([one, one, one]);
    endpoint.hold();
    for (let i = 0; i < 3; i++) endpoint.handleDatagram(buffer, '192.0.2.1', i * one.length, one.length);
    expect(tap.written).toHaveLength(1);
    endpoint.flush();
    expect(writes).toEqual([3]);
    expect(tap.written.slice(1)).toEqual([datagram(), datagram(), datagram()]);
    expect(endpoint.counters.get('bypassFramesIn')).toBe(4);
    tap.inject(datagram(), datagram());
    expect(sent).toHaveLength(0);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.count).toBe(2);
    expect(batches[0]!.address).toBe('192.0.2.1');
    const view = new BypassView();
    for (const packet of batches[0]!.packets) {
      expect(decapsulateBypass(packet, 0, packet.length, view, { vni: VNI, direction: 'to-gateway' })).toBe(BypassStatus.FRAME);
      expect(packet.subarray(view.frameOffset)).toEqual(datagram());
    }
  });

  it('takes every tunnel down on close, with a log line each', () => {
    const { endpoint, lines, network, devices } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    endpoint.close();
    expect(devices[0]!.closed).toBe(true);
    expect(network.calls.at(-1)).toBe('down nat64bp0 table 6400');
    expect(lines.at(-1)).toBe('Tunnel down 192.0.2.1 vni 0x48b25c (receiver stopped)');
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    expect(endpoint.tunnelCount).toBe(0);
  });

  it('never throws and never writes a bad frame, whatever arrives', () => {
    const { endpoint, devices } = setUp();
    endpoint.handleDatagram(encapsulate(solicitation()), '192.0.2.1');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('192.0.2.1', '192.0.2.2'), (bytes, address) => {
        endpoint.handleDatagram(Buffer.from(bytes), address);
      }),
    );
    for (const frame of devices[0]!.written) expect(frame.readUInt16BE(12)).toBe(0x86dd);
  });
});
