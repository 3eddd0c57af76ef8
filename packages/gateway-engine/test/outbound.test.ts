import { describe, expect, it } from 'vitest';
import { addr4, checksumsValid4, fragment6, ipv4, ipv6, read16, TCP_ACK } from './support/packets.js';
import { CLIENT, POOL4, SERVER, SERVER6, pool4, staticBib, testEngine } from './support/engine.js';

const udp = (overrides: Partial<Parameters<typeof ipv6>[0]> = {}) =>
  ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53, ...overrides });

describe('outbound', () => {
  it("translates a UDP packet to the server from the client's NAT transport address", () => {
    const g = testEngine();
    const [out] = g.send(udp({ hopLimit: 9 }));
    expect(addr4(out!, 12)).toBe(POOL4);
    expect(addr4(out!, 16)).toBe(SERVER);
    expect(out![8]).toBe(8);
    const h = g.table.lookupInbound(17, 0xcb007102, 53, 0xc6336401, read16(out!, 20));
    expect(h).toBeGreaterThanOrEqual(0);
    expect(g.table.clientPort(h)).toBe(40_000);
    expect(read16(out!, 22)).toBe(53);
    expect(checksumsValid4(out!)).toBe(true);
    expect(g.counter('forwarded64')).toBe(1);
  });

  it('keeps using the session for the next packets and writes a batch in one call', () => {
    const g = testEngine();
    let calls = 0;
    const write = g.tun.writeBatch.bind(g.tun);
    g.tun.writeBatch = (buffer, offsets, lengths, count) => {
      calls++;
      return write(buffer, offsets, lengths, count);
    };
    const out = g.send(udp(), udp(), udp());
    expect(out).toHaveLength(3);
    expect(calls).toBe(1);
    expect(new Set(out.map((p) => read16(p, 20))).size).toBe(1);
    expect(g.table.sessionCount).toBe(1);
  });

  it('refuses a non-global IPv4 destination under the Well-Known Prefix with ICMPv6 1/1, creating no session', () => {
    const g = testEngine({ prefix: '64:ff9b::/96' });
    const [error] = g.send(udp({ dst: '64:ff9b::c0a8:101' }));
    expect(error![0]! >> 4).toBe(6);
    expect([error![40], error![41]]).toEqual([1, 1]);
    expect(g.counter('nonGlobalDestination')).toBe(1);
    expect(g.table.sessionCount).toBe(0);
    // A global destination under the same prefix goes through.
    expect(g.send(udp({ dst: '64:ff9b::808:808' }))[0]![0]! >> 4).toBe(4);
  });

  it('translates non-global destinations when told to, or under a network-specific prefix', () => {
    const wkp = testEngine({ prefix: '64:ff9b::/96', refuseNonGlobalUnderWkp: false });
    expect(addr4(wkp.send(udp({ dst: '64:ff9b::c0a8:101' }))[0]!, 16)).toBe('192.168.1.1');
    const nsp = testEngine();
    expect(addr4(nsp.send(udp({ dst: '2001:db8:64::a00:1' }))[0]!, 16)).toBe('10.0.0.1');
  });

  it('embeds and extracts the IPv4 address around the u octet for every RFC 6052 prefix length', () => {
    // 203.0.113.2 = cb.00.71.02 under 64:ff9b::/L (RFC 6052 2.2 Figure 1; byte 8 is the u octet). Not
    // 2001:db8::/32, which would hold the client too.
    const servers: Record<number, string> = {
      32: '64:ff9b:cb00:7102::',
      40: '64:ff9b:cb:71:2::',
      48: '64:ff9b:0:cb00:71:200::',
      56: '64:ff9b:0:cb:0:7102::',
      64: '64:ff9b::cb:71:200:0',
      96: '64:ff9b::cb00:7102',
    };
    for (const [length, server6] of Object.entries(servers)) {
      const g = testEngine({ prefix: `64:ff9b::/${length}`, refuseNonGlobalUnderWkp: false });
      const [out] = g.send(udp({ dst: server6 }));
      expect(addr4(out!, 16), `/${length}`).toBe(SERVER);
      const [back] = g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: read16(out!, 20) }));
      const expected = ipv6({ src: server6, dst: CLIENT, protocol: 17, srcPort: 53, dstPort: 40_000 });
      expect(Buffer.from(back!.subarray(8, 24)), `/${length}`).toEqual(Buffer.from(expected.subarray(8, 24)));
    }
  });

  it('drops packets outside the prefix and packets from inside it, counting each', () => {
    const g = testEngine();
    expect(g.send(udp({ dst: '2001:db8:65::1' }), udp({ src: '2001:db8:64::1' }))).toEqual([]);
    expect(g.counter('notPool6')).toBe(1);
    expect(g.counter('sourceInPool6')).toBe(1);
  });

  it('answers hop limit 1 with Time Exceeded and creates no session', () => {
    const g = testEngine();
    const [error] = g.send(udp({ hopLimit: 1 }));
    expect([error![6], error![40]]).toEqual([58, 3]);
    expect(g.table.sessionCount).toBe(0);
  });

  it('answers pool exhaustion with ICMPv6 1/3 (RFC 6146 3.5.1.1)', () => {
    const g = testEngine({ pool4: [pool4(POOL4, { first: 2000, last: 2000 })] });
    expect(g.send(udp({ srcPort: 1 }))[0]![0]! >> 4).toBe(4);
    const [error] = g.send(udp({ srcPort: 2 }));
    expect([error![40], error![41]]).toEqual([1, 3]);
    expect(g.counter('poolExhausted')).toBe(1);
  });

  it('opens TCP only with a SYN', () => {
    const g = testEngine();
    expect(g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_000, dstPort: 80, tcpFlags: TCP_ACK }))).toEqual([]);
    expect(g.counter('noSession')).toBe(1);
    const [syn] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 6, srcPort: 40_000, dstPort: 80 }));
    expect(syn![9]).toBe(6);
  });

  it('counts protocols the NAT does not track', () => {
    const g = testEngine();
    expect(g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 47 }))).toEqual([]);
    expect(g.counter('unsupportedProtocol')).toBe(1);
  });

  it('translates fragments that arrive before their first fragment once it comes', () => {
    const g = testEngine();
    const whole = udp({ payload: new Uint8Array(64).fill(3) });
    const [first, second] = fragment6(whole, 32, 0x1234_5678);
    expect(g.send(second!)).toEqual([]);
    expect(g.counter('fragmentsHeld')).toBe(1);
    const out = g.send(first!);
    expect(out).toHaveLength(2);
    // Both leave with the IPv4 form of the Fragment ID and the NAT address; offsets 0 and 32.
    expect(out.map((p) => [read16(p, 4), read16(p, 6) & 0x1fff, addr4(p, 12)])).toEqual([
      [0x5678, 0, POOL4],
      [0x5678, 4, POOL4],
    ]);
    expect(read16(out[0]!, 6) & 0x2000).toBe(0x2000);
  });

  it('translates an ICMPv6 error by the session of the packet it quotes, and drops one without', () => {
    const g = testEngine();
    const [request] = g.send(udp());
    const natPort = read16(request!, 20);
    const reply = ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: natPort });
    const [reply6] = g.send(reply);
    const error = ipv6({ src: CLIENT, dst: SERVER6, protocol: 58, icmp: { type: 1, code: 4, rest: 0 }, payload: reply6! });
    const [error4] = g.send(error);
    expect([error4![9], error4![20], error4![21]]).toEqual([1, 3, 3]);
    expect(addr4(error4!, 28 + 12)).toBe(SERVER);
    expect(addr4(error4!, 28 + 16)).toBe(POOL4);
    expect(read16(error4!, 48 + 2)).toBe(natPort);
    expect(g.counter('icmpErrorsTranslated')).toBe(1);
    const stray = ipv6({
      src: CLIENT,
      dst: SERVER6,
      protocol: 58,
      icmp: { type: 1, code: 4, rest: 0 },
      payload: ipv6({ src: '2001:db8:64::cb00:7103', dst: CLIENT, protocol: 17, srcPort: 53, dstPort: 40_000 }),
    });
    expect(g.send(stray)).toEqual([]);
    expect(g.counter('icmpErrorNoSession')).toBe(1);
  });

  it("hands a translated ICMPv6 error to the tunnel encapsulator under its quoted session's mapping", () => {
    const g = testEngine();
    const mappings: string[] = [];
    g.engine.onOutput({ encapsulate: (_out, _from, _nat, _host, protocol, natPort) => void mappings.push(`${protocol}/${natPort}`) });
    const [request] = g.send(udp());
    const natPort = read16(request!, 20);
    // An echo in between leaves its identifier in the engine's reused mapping.
    const [echo] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 58, icmp: { type: 128, code: 0, rest: 0x4242_0001 } }));
    const echoId = read16(echo!, 24);
    const [reply6] = g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: natPort }));
    const [error4] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 58, icmp: { type: 1, code: 4, rest: 0 }, payload: reply6! }));
    expect(error4![9]).toBe(1);
    expect(mappings).toEqual([`17/${natPort}`, `1/${echoId}`, `17/${natPort}`]);
  });

  it('offers an armed client-miss handler the new UDP and echo flows whose client holds no mapping, and nothing else', () => {
    const g = testEngine();
    const offered: string[] = [];
    let take = false;
    g.engine.onClientMiss({
      armed: true,
      miss: (_v, protocol, clientPort, _server, serverPort) => {
        offered.push(`${protocol}/${clientPort}/${serverPort}`);
        return take;
      },
    });
    const echo = ipv6({ src: CLIENT, dst: SERVER6, protocol: 58, icmp: { type: 128, code: 0, rest: (7 << 16) | 1 } });
    take = true;
    expect(g.send(udp(), echo)).toEqual([]);
    expect(g.table.sessionCount).toBe(0);
    take = false;
    // Declined: the table makes the mapping; its later packets, and a new server on it (EIM), are not offered.
    expect(g.send(udp(), udp(), udp({ dstPort: 123 }), echo, echo)).toHaveLength(5);
    expect(offered).toEqual(['17/40000/53', '1/7/0', '17/40000/53', '1/7/0']);
    expect(g.table.sessionCount).toBe(3);
    expect(g.counter('clientMissTaken')).toBe(2);
  });

  it('hairpins a packet to a pool4 address back to the client that owns the mapping', () => {
    const g = testEngine({ staticBib: [staticBib('udp', '2001:db8:1::7', POOL4, 7000)] });
    const [out] = g.send(udp({ dst: '2001:db8:64::c633:6401', dstPort: 7000 }));
    expect(out![0]! >> 4).toBe(6);
    expect(g.counter('hairpinned')).toBe(1);
    // From the client's NAT address under the prefix, to the static client.
    expect(Buffer.from(out!.subarray(8, 24)).toString('hex')).toBe('20010db80064000000000000c6336401');
    expect(Buffer.from(out!.subarray(24, 40)).toString('hex')).toBe('20010db8000100000000000000000007');
    expect(read16(out!, 42)).toBe(7000);
  });
});
