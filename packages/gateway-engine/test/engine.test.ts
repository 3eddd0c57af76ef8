import { DELETE_REASON, PROTOCOL } from '@nat64/nat64';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SPEC as GATEWAY_SPEC } from '@nat64/gateway-engine';
import { uint32ToIpv4Text } from '@nat64/wire';
import { ipv4, ipv6, read16 } from './support/packets.js';
import { CLIENT, POOL4, SERVER, SERVER6, pool4, staticBib, testEngine } from './support/engine.js';

const handoff = (payload = new Uint8Array([1, 2, 3])) =>
  ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 40_000, dstPort: GATEWAY_SPEC.HANDOFF_PORT, payload });

describe('engine', () => {
  it('hands UDP to a reserved port on a pool4 address to the local handler instead of the NAT', () => {
    const g = testEngine();
    const seen: string[] = [];
    g.engine.onLocal(GATEWAY_SPEC.HANDOFF_PORT, (v) => seen.push(`${v.srcPort}->${v.dstPort} ${v.l4Length}`));
    expect(g.send(handoff())).toEqual([]);
    expect(seen).toEqual([`40000->${GATEWAY_SPEC.HANDOFF_PORT} 11`]);
    expect(g.counter('localDelivered')).toBe(1);
    expect(g.table.sessionCount).toBe(0);
  });

  it('counts packets to a reserved port nobody handles, and refuses handlers on other ports', () => {
    const g = testEngine();
    expect(g.send(handoff())).toEqual([]);
    expect(g.counter('localUnclaimed')).toBe(1);
    expect(() => g.engine.onLocal(5000, () => {})).toThrow(/not reserved/);
    const off = g.engine.onLocal(GATEWAY_SPEC.GENEVE_PORT, () => {});
    expect(() => g.engine.onLocal(GATEWAY_SPEC.GENEVE_PORT, () => {})).toThrow(/already/);
    off();
    g.engine.onLocal(GATEWAY_SPEC.GENEVE_PORT, () => {});
  });

  it('never gives a client a reserved port', () => {
    const g = testEngine({ pool4: [pool4(POOL4, { first: GATEWAY_SPEC.HANDOFF_PORT, last: GATEWAY_SPEC.HANDOFF_PORT + 2 })] });
    const outputs = [1, 3, 5].map((n) => g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000 + n, dstPort: 53 }))[0]!);
    const ports = outputs.filter((p) => p[0]! >> 4 === 4).map((p) => read16(p, 20));
    expect(ports.sort()).toEqual([GATEWAY_SPEC.HANDOFF_PORT + 1, GATEWAY_SPEC.HANDOFF_PORT + 2]);
    // The third client finds the pool exhausted (ICMPv6 1/3).
    expect(g.counter('poolExhausted')).toBe(1);
  });

  it('hands an ICMP error quoting its own datagram from a reserved port to the local error handler', () => {
    const g = testEngine();
    const ours = ipv4({ src: POOL4, dst: SERVER, protocol: 17, srcPort: GATEWAY_SPEC.HANDOFF_PORT, dstPort: GATEWAY_SPEC.HANDOFF_PORT });
    const unreachable = ipv4({ src: SERVER, dst: POOL4, protocol: 1, icmp: { type: 3, code: 3, rest: 0 }, payload: ours });
    // Without a handler it matches no session, like any error about a packet the NAT did not send.
    expect(g.send(unreachable)).toEqual([]);
    expect(g.counter('icmpErrorNoSession')).toBe(1);
    const seen: string[] = [];
    g.engine.onLocalError(GATEWAY_SPEC.HANDOFF_PORT, (v) => seen.push(`${v.icmpType}/${v.icmpCode} ${uint32ToIpv4Text(v.inner!.dst)}:${v.inner!.dstPort}`));
    expect(g.send(unreachable)).toEqual([]);
    expect(seen).toEqual([`3/3 ${SERVER}:${GATEWAY_SPEC.HANDOFF_PORT}`]);
    expect(g.counter('localErrors')).toBe(1);
    expect(() => g.engine.onLocalError(GATEWAY_SPEC.HANDOFF_PORT, () => {})).toThrow(/already/);
    expect(() => g.engine.onLocalError(5000, () => {})).toThrow(/not reserved/);
  });

  it('runs batch-end hooks after the last packet of a batch, and what they inject leaves with the batch', () => {
    const g = testEngine();
    const order: string[] = [];
    const extra = ipv4({ src: POOL4, dst: SERVER, protocol: 17, srcPort: GATEWAY_SPEC.HANDOFF_PORT, dstPort: GATEWAY_SPEC.HANDOFF_PORT });
    g.engine.onLocal(GATEWAY_SPEC.HANDOFF_PORT, () => order.push('packet'));
    const off = g.engine.onBatchEnd(() => {
      order.push('end');
      g.engine.injectIpv4(extra, 0, extra.length);
    });
    const calls: number[] = [];
    g.engine.setSink({
      writeBatch: (_b, _o, _l, count) => {
        calls.push(count);
        return count;
      },
    });
    g.send(handoff(), ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }), handoff());
    expect(order).toEqual(['packet', 'packet', 'end']);
    // One write: the translated packet and the injected one together.
    expect(calls).toEqual([2]);
    // A task run outside a device batch is a batch too.
    g.engine.run(() => order.push('task'));
    expect(order.slice(-2)).toEqual(['task', 'end']);
    expect(calls).toEqual([2, 1]);
    off();
    g.send(handoff());
    expect(order.at(-1)).toBe('packet');
  });

  it('tells batch-end hooks whether the device queue was read empty: a full batch is not, a short one and a task are', () => {
    const g = testEngine();
    const drained: boolean[] = [];
    g.engine.onBatchEnd((d) => drained.push(d));
    const packets = Array.from({ length: 65 }, (_, i) => ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000 + i, dstPort: 53 }));
    g.send(...packets);
    expect(drained).toEqual([false, true]);
    g.send(packets[0]!);
    g.engine.run(() => {});
    expect(drained).toEqual([false, true, true, true]);
  });

  it('sends what a local handler injects from a pool4 address, and refuses other sources', () => {
    const g = testEngine();
    const answer = ipv4({ src: POOL4, dst: SERVER, protocol: 17, srcPort: GATEWAY_SPEC.HANDOFF_PORT, dstPort: 40_000 });
    g.engine.onLocal(GATEWAY_SPEC.HANDOFF_PORT, () => {
      expect(g.engine.injectIpv4(answer, 0, answer.length)).toBe(true);
    });
    const [sent] = g.send(handoff());
    expect(Buffer.from(sent!)).toEqual(Buffer.from(answer));
    // Outside a batch it is written at once.
    expect(g.engine.injectIpv4(answer, 0, answer.length)).toBe(true);
    expect(g.tun.takeWritten()).toHaveLength(1);
    const spoofed = ipv4({ src: '198.51.100.9', dst: SERVER, protocol: 17, srcPort: 1, dstPort: 2 });
    expect(g.engine.injectIpv4(spoofed, 0, spoofed.length)).toBe(false);
    expect(g.counter('injected')).toBe(2);
    expect(g.counter('injectRefused')).toBe(1);
  });

  it('offers a packet without session to the miss handler, which can re-inject it once the session exists', () => {
    const g = testEngine();
    const kept: Uint8Array[] = [];
    g.engine.onMiss((v, verdict) => {
      expect(verdict).toBe(-1);
      kept.push(v.buf.slice(v.start, v.end));
      return true;
    });
    const [out] = g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    const natPort = read16(out!, 20);
    const early = ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: natPort + 1 });
    expect(g.send(early)).toEqual([]);
    expect(g.counter('missTaken')).toBe(1);
    // Re-injected and still without a mapping: refused as usual, not offered again.
    g.engine.reinjectIpv4(kept[0]!, 0, kept[0]!.length);
    const [error] = g.tun.takeWritten();
    expect([error![20], error![21]]).toEqual([3, 3]);
    expect(g.counter('missTaken')).toBe(1);
    // Re-injected once a mapping exists: translated.
    const late = ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: natPort });
    g.engine.reinjectIpv4(late, 0, late.length);
    expect(g.tun.takeWritten()[0]![0]! >> 4).toBe(6);
    g.engine.onMiss(null);
    expect(g.send(early)[0]![20]).toBe(3);
  });

  it('tells subscribers about sessions created and deleted, toward which IPv4 host and why', () => {
    const g = testEngine();
    const events: string[] = [];
    const off = g.engine.events.subscribe({
      sessionCreated: (table, h) => events.push(`+ ${uint32ToIpv4Text(table.serverAddress(h))} ${table.protocol(h)}`),
      sessionDeleted: (table, h, reason) => events.push(`- ${table.serverPort(h)} ${reason}`),
    });
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }));
    g.advance(5 * 60_000);
    g.engine.expire(Infinity);
    off();
    g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_001, dstPort: 53 }));
    expect(events).toEqual([`+ ${SERVER} ${PROTOCOL.UDP}`, `- 53 ${DELETE_REASON.TIMEOUT}`]);
  });

  it('expires at most the budget per call and leaves the rest due', () => {
    const g = testEngine();
    for (let port = 1; port <= 10; port++) g.send(ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 30_000 + port, dstPort: 53 }));
    g.advance(5 * 60_000);
    expect(g.engine.expire(4)).toBe(4);
    expect(g.table.sessionCount).toBe(6);
    expect(g.engine.expire(Infinity)).toBe(6);
  });

  it('never throws for any bytes a device could deliver', () => {
    const g = testEngine({ staticBib: [staticBib('udp', CLIENT, POOL4, 53)] });
    const seed = [
      ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort: 40_000, dstPort: 53 }),
      ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: 53 }),
      ipv4({
        src: SERVER,
        dst: POOL4,
        protocol: 1,
        icmp: { type: 3, code: 3, rest: 0 },
        payload: ipv4({ src: POOL4, dst: SERVER, protocol: 17, srcPort: 53, dstPort: 9 }),
      }),
    ];
    fc.assert(
      fc.property(fc.nat(seed.length - 1), fc.array(fc.tuple(fc.nat(120), fc.nat(255)), { maxLength: 8 }), fc.nat(130), (which, edits, cut) => {
        const packet = seed[which]!.slice(0, Math.max(1, seed[which]!.length - cut));
        for (const [at, value] of edits) if (at < packet.length) packet[at] = value;
        g.send(packet);
      }),
      { numRuns: 2000 },
    );
  });
});
