import { describe, expect, it } from 'vitest';
import { addr4, checksumValid6, ipv4, ipv6, read16, TCP_ACK, TCP_SYN } from './support/packets.js';
import { CLIENT, POOL4, SERVER, SERVER6, staticBib, testEngine } from './support/engine.js';

const WEB = staticBib('tcp', CLIENT, POOL4, 80);
const DNS = staticBib('udp', CLIENT, POOL4, 53);

describe('inbound', () => {
  it('translates a reply to the client that opened the session', () => {
    const g = testEngine();
    const [out] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const [reply] = g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: read16(out!, 20), ttl: 30 }));
    expect(reply![0]! >> 4).toBe(6);
    expect(reply![7]).toBe(29);
    expect(Buffer.from(reply!.subarray(8, 24)).toString('hex')).toBe('20010db80064000000000000cb007102');
    expect(Buffer.from(reply!.subarray(24, 40)).toString('hex')).toBe('20010db8000100000000000000000002');
    expect([read16(reply!, 40), read16(reply!, 42)]).toEqual([53, 40_000]);
    expect(checksumValid6(reply!)).toBe(true);
    expect(g.counter('forwarded46')).toBe(1);
  });

  it('lets IPv4 hosts reach a static BIB entry', () => {
    const g = testEngine({ staticBib: [WEB] });
    const [syn] = g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 51_000, dstPort: 80 }));
    expect([read16(syn!, 40), read16(syn!, 42)]).toEqual([51_000, 80]);
    expect(g.table.sessionCount).toBe(1);
  });

  it('answers UDP without a mapping with ICMPv4 port unreachable from the translator address', () => {
    const g = testEngine();
    const [error] = g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: 4000 }));
    expect([error![9], error![20], error![21]]).toEqual([1, 3, 3]);
    expect(addr4(error!, 12)).toBe(POOL4);
    expect(addr4(error!, 16)).toBe(SERVER);
    expect(g.counter('noBib')).toBe(1);
  });

  it('drops TCP and ICMP without a mapping silently', () => {
    const g = testEngine();
    const out = g.send(
      ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 80, dstPort: 4000, tcpFlags: TCP_ACK }),
      ipv4({ src: SERVER, dst: POOL4, protocol: 1, icmp: { type: 8, code: 0, rest: 0x00070001 } }),
    );
    expect(out).toEqual([]);
    expect(g.counter('noBib') + g.counter('noSession')).toBe(2);
  });

  it('holds an unsolicited SYN and answers it with port unreachable when 6 seconds run out', () => {
    const g = testEngine();
    expect(g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 6, srcPort: 51_000, dstPort: 4000, tcpFlags: TCP_SYN }))).toEqual([]);
    expect(g.counter('heldSyns')).toBe(1);
    g.advance(5_999);
    g.engine.expire(Infinity);
    expect(g.tun.takeWritten()).toEqual([]);
    g.advance(1);
    g.engine.expire(Infinity);
    const [error] = g.tun.takeWritten();
    expect([error![20], error![21]]).toEqual([3, 3]);
    expect(read16(error!, 28 + 20 + 2)).toBe(4000);
    expect(g.counter('heldSynsAnswered')).toBe(1);
  });

  it('refuses what address-dependent filtering filters, UDP with ICMPv4 3/13', () => {
    const g = testEngine({ filtering: 'address-dependent' });
    const [out] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const [error] = g.send(ipv4({ src: '203.0.113.3', dst: POOL4, protocol: 17, srcPort: 53, dstPort: read16(out!, 20) }));
    expect([error![20], error![21]]).toEqual([3, 13]);
    expect(g.counter('filtered')).toBe(1);
  });

  it('drops packets to addresses outside pool4', () => {
    const g = testEngine({ staticBib: [DNS] });
    expect(g.send(ipv4({ src: SERVER, dst: '198.51.100.2', protocol: 17, srcPort: 53, dstPort: 53 }))).toEqual([]);
    expect(g.counter('notPool4')).toBe(1);
  });

  it('refuses non-global sources under the Well-Known Prefix', () => {
    const g = testEngine({ prefix: '64:ff9b::/96', staticBib: [DNS] });
    expect(g.send(ipv4({ src: '10.1.2.3', dst: POOL4, protocol: 17, srcPort: 53, dstPort: 53 }))).toEqual([]);
    expect(g.counter('nonGlobalSource')).toBe(1);
    expect(g.send(ipv4({ src: '8.8.8.8', dst: POOL4, protocol: 17, srcPort: 53, dstPort: 53 }))).toHaveLength(1);
  });

  it('answers a hairpinned packet that finds no mapping with ICMPv6 port unreachable to its IPv6 sender', () => {
    const g = testEngine();
    const original = ipv6({ src: CLIENT, dst: '2001:db8:64::c633:6401', protocol: 17, srcPort: 40_000, dstPort: 4000 });
    const [error] = g.send(original);
    expect([error![6], error![40], error![41]]).toEqual([58, 1, 4]);
    expect(Buffer.from(error!.subarray(48))).toEqual(Buffer.from(original));
  });

  it("translates an ICMPv4 error from a router by the session it quotes, from the router's address", () => {
    const g = testEngine();
    const [out] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const error = ipv4({ src: '203.0.113.254', dst: POOL4, protocol: 1, icmp: { type: 11, code: 0, rest: 0 }, payload: out! });
    const [error6] = g.send(error);
    expect([error6![40], error6![41]]).toEqual([3, 0]);
    expect(Buffer.from(error6!.subarray(8, 24)).toString('hex')).toBe('20010db80064000000000000cb0071fe');
    // The quoted packet is the client's own, as it left: client port 40000 to the server under the prefix.
    expect(read16(error6!, 48 + 40)).toBe(40_000);
    expect(g.counter('icmpErrorsTranslated')).toBe(1);
  });
});
