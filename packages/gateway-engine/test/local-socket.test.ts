// The local socket on a pool4 port (here the handoff port): the bytes of the IPv4/UDP packets it
// builds, and what it does with what arrives on its port and with ICMP errors about its datagrams.
import { describe, expect, it } from 'vitest';
import { LocalSocket, type LocalSocketReceiver } from '@nat64/gateway-engine';
import { HANDOFF_PORT } from '@nat64/wire';
import { POOL4, SERVER, testEngine, v4 } from './support/engine.js';
import { checksumsValid4, ipv4, read16 } from './support/packets.js';

function setUp() {
  const g = testEngine();
  const transport = new LocalSocket(g.engine, HANDOFF_PORT, 1472);
  const counters = transport.counters;
  const heard: string[] = [];
  const receiver: LocalSocketReceiver = {
    receive: (natAddress, host, hostPort, payload) => heard.push(`datagram ${natAddress}<-${host}:${hostPort} ${Buffer.from(payload).toString('hex')}`),
    portUnreachable: (natAddress, host) => heard.push(`unreachable ${natAddress}->${host}`),
  };
  const detach = transport.attach(receiver);
  return { g, counters, transport, heard, detach };
}

describe('LocalSocket', () => {
  it('builds the IPv4/UDP packet from the NAT address to the host, port 62863 both ways, with both checksums', () => {
    const { g, transport } = setUp();
    transport.send(v4(POOL4), v4(SERVER), Uint8Array.of(1, 2, 3, 4));
    const [packet] = g.tun.takeWritten();
    // Checksums by hand (RFC 1071): header words 4500+0020+0000+4000+4011+c633+6401+cb00+7102 = 0x32b67,
    // folded 0x2b6a, complemented 0xd495; UDP with its pseudo-header folds to 0x5587, complemented 0xaa78.
    expect(Buffer.from(packet!).toString('hex')).toBe(
      [
        '45000020', // version 4, IHL 5, TOS 0, total length 32
        '00004000', // identification 0, DF, fragment offset 0
        '4011d495', // TTL 64, protocol 17 UDP, header checksum
        'c6336401', // source 198.51.100.1 (the NAT address)
        'cb007102', // destination 203.0.113.2 (the host)
        'f58ff58f', // UDP ports 62863 -> 62863
        '000caa78', // UDP length 12, checksum
        '01020304', // the payload as the agent gave it
      ].join(''),
    );
    expect(checksumsValid4(packet!)).toBe(true);
  });

  it('refuses a payload larger than its MTU and counts it', () => {
    const { g, counters, transport } = setUp();
    transport.send(v4(POOL4), v4(SERVER), new Uint8Array(1473));
    expect(g.tun.takeWritten()).toEqual([]);
    expect(counters.get('sendRefused')).toBe(1);
  });

  it('hands the UDP payload of a datagram to port 62863 to the receiver with its source', () => {
    const { g, counters, heard } = setUp();
    g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: HANDOFF_PORT, dstPort: HANDOFF_PORT, payload: Uint8Array.of(0xab, 0xcd) }));
    expect(heard).toEqual([`datagram ${v4(POOL4)}<-${v4(SERVER)}:${HANDOFF_PORT} abcd`]);
    expect(counters.get('datagramsReceived')).toBe(1);
  });

  it('drops a datagram whose UDP checksum is wrong, and accepts one without a checksum', () => {
    const { g, counters, heard } = setUp();
    const bad = ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: HANDOFF_PORT, dstPort: HANDOFF_PORT, payload: Uint8Array.of(1, 2) });
    bad[26]! ^= 0x01;
    g.send(bad);
    expect(counters.get('malformed')).toBe(1);
    bad[26] = 0;
    bad[27] = 0;
    g.send(bad);
    expect(heard).toHaveLength(1);
  });

  it('hands ICMP port unreachable about its datagram to the receiver, and only counts other errors', () => {
    const { g, counters, heard } = setUp();
    const ours = ipv4({ src: POOL4, dst: SERVER, protocol: 17, srcPort: HANDOFF_PORT, dstPort: HANDOFF_PORT });
    g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 1, icmp: { type: 3, code: 3, rest: 0 }, payload: ours }));
    g.send(ipv4({ src: '203.0.113.1', dst: POOL4, protocol: 1, icmp: { type: 3, code: 1, rest: 0 }, payload: ours }));
    expect(heard).toEqual([`unreachable ${v4(POOL4)}->${v4(SERVER)}`]);
    expect(counters.get('portUnreachable')).toBe(1);
    expect(counters.get('icmpErrorsOther')).toBe(1);
    expect(g.tun.takeWritten()).toEqual([]);
  });

  it('speaks on the reserved port it is given, and counts on its own', () => {
    const g = testEngine();
    const socket = new LocalSocket(g.engine, 6081, 1472);
    const heard: number[] = [];
    socket.attach({ receive: (_nat, _host, hostPort) => heard.push(hostPort), portUnreachable: () => {} });
    socket.send(v4(POOL4), v4(SERVER), Uint8Array.of(1));
    const [packet] = g.tun.takeWritten();
    expect([read16(packet!, 20), read16(packet!, 22)]).toEqual([6081, 6081]);
    g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 6081, dstPort: 6081, payload: Uint8Array.of(1) }));
    g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: HANDOFF_PORT, dstPort: HANDOFF_PORT, payload: Uint8Array.of(1) }));
    expect(heard).toEqual([6081]);
    expect([socket.counters.get('datagramsSent'), socket.counters.get('datagramsReceived')]).toEqual([1, 1]);
    expect(socket.counters.snapshot({ all: true }).find((c) => c.name === 'datagramsReceived')!.explanation).toMatch(/port 6081/);
  });

  it('stops delivering once detached', () => {
    const { g, heard, detach } = setUp();
    detach();
    g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: HANDOFF_PORT, dstPort: HANDOFF_PORT }));
    expect(heard).toEqual([]);
    expect(g.counter('localUnclaimed')).toBe(1);
  });
});
