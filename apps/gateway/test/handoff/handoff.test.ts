// Handoff composed into a gateway on a FakeTun, against the fake receiver of support.ts: the modes,
// authentication, the view `hosts` shows, and start/stop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDOFF_PORT, MessageType } from '@nat64/handoff-codec';
import { PeerState } from '@nat64/handoff-agent';
import { PROTOCOL } from '@nat64/nat64';
import { silentLogger } from '@nat64/service';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type GeneveTransport, Handoff, createHandoff } from '@nat64/gateway-handoff';
import { CLIENT, POOL4, SERVER, SERVER6, testGateway } from '../support/gateway.js';
import { ipv4, ipv6, read16 } from '../../../../packages/gateway-engine/test/support/packets.js';
import { FakeReceiver, converse, testHandoff, v4 } from './support.js';

const udp = (srcPort: number, dstPort = 53) => ipv6({ src: CLIENT, dst: SERVER6, protocol: 17, srcPort, dstPort });

describe('handoff', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('hands a new mapping to an authoritative receiver: HELLO, CREATED, ACK, then its session is a cache', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    const [translated] = h.send(udp(40_000));
    expect(translated![0]! >> 4).toBe(4);
    expect(h.outbox.map((s) => s.message.type)).toEqual([MessageType.HELLO]);
    converse(h, [receiver]);
    const natPort = read16(translated!, 20);
    expect(receiver.log).toEqual([`Initialized ${POOL4}`, `Created ${POOL4}:${natPort} port 40000`]);
    expect(h.g.table.isHandedOff(h.g.table.lookupInbound(PROTOCOL.UDP, v4(SERVER), 53, v4(POOL4), natPort))).toBe(true);
    expect(h.handoff.agent.peerState(v4(POOL4), v4(SERVER))).toBe(PeerState.AUTHORITATIVE);
  });

  it('sends a new mapping with the batch that read the device empty, without waiting for a timer', () => {
    const h = testHandoff();
    const receiver = new FakeReceiver(v4(SERVER));
    h.send(udp(40_000));
    converse(h, [receiver]);
    // The clock stands still: nothing has waited the flush delay, yet the datapath goes idle now.
    h.send(udp(40_001), udp(40_002));
    expect(h.outbox.map((s) => [s.message.type, 'entries' in s.message ? s.message.entries.map((e) => e.clientPort) : []])).toEqual([
      [MessageType.CREATED, [40_001, 40_002]],
    ]);
  });

  it('keeps filling the datagram while full batches follow one another, then sends the rest on its deadline when no batch comes', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = testHandoff({}, {}, 50);
    const receiver = new FakeReceiver(v4(SERVER));
    h.send(udp(1_000));
    converse(h, [receiver]);
    // One batch of exactly the device's batch size: more may follow, so the open datagram waits.
    h.send(...Array.from({ length: 64 }, (_, i) => udp(2_000 + i)));
    const sizes = () => h.take().handoff.flatMap((s) => (s.message.type === MessageType.CREATED ? [s.message.entries.length] : []));
    expect(sizes()).toEqual([36]);
    h.g.advance(3);
    vi.advanceTimersByTime(3);
    expect(sizes()).toEqual([]);
    h.g.advance(2);
    vi.advanceTimersByTime(2);
    expect(sizes()).toEqual([28]);
    h.handoff.stop();
  });

  /** A gateway whose handoff timer runs on fake timers in step with its clock, talking to an authoritative receiver. */
  function withTimer(housekeepingMs: number) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = testHandoff({}, {}, housekeepingMs);
    const receiver = new FakeReceiver(v4(SERVER));
    // A millisecond at a time, so that a timer fires when the clock says it is due.
    const later = (ms: number) => {
      for (let i = 0; i < ms; i++) {
        h.g.advance(1);
        vi.advanceTimersByTime(1);
      }
    };
    h.send(udp(1_000));
    // As converse(), but only the timer runs the agent.
    // Ten rounds of 5 ms: the clock is 50 ms past the start afterwards.
    for (let round = 0; round < 10; round++) {
      later(5);
      const replies = receiver.answer(h.take().handoff);
      if (replies.length > 0) h.send(...replies);
    }
    expect(receiver.log).toEqual([`Initialized ${POOL4}`, expect.stringMatching(/^Created /)]);
    return { h, later };
  }

  const createdSizes = (h: ReturnType<typeof testHandoff>) =>
    h.take().handoff.flatMap((s) => (s.message.type === MessageType.CREATED ? [s.message.entries.length] : []));

  it('sets its timer again without a batch of its own when the batches since did the work it was set for', () => {
    const { h, later } = withTimer(100);
    // A full batch leaves its datagram open and sets the timer to its flush deadline; the short batch
    // after it reads the device empty and sends the datagram, so the timer has nothing left to do.
    h.send(...Array.from({ length: 64 }, (_, i) => udp(2_000 + i)));
    h.send(udp(3_000));
    expect(createdSizes(h)).toEqual([36, 29]);
    const run = vi.spyOn(h.g.engine, 'run');
    later(5);
    expect(run).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(1);
    // What is due later still runs: the retransmission of the unacknowledged datagrams.
    later(100);
    expect(run).toHaveBeenCalled();
    expect(h.handoff.agent.counters.get('retransmissions')).toBeGreaterThan(0);
    h.handoff.stop();
  });

  it('leaves its timer alone when the next deadline moves earlier by less than a millisecond, and sends the datagram when it fires', () => {
    const { h, later } = withTimer(100);
    // 50 ms after the start the timer waits for the housekeeping at 100; a datagram opened at 95.5 is
    // due 0.5 ms before it (the fake timers count whole milliseconds, so they stay at 95).
    later(45);
    h.g.advance(0.5);
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    h.send(...Array.from({ length: 64 }, (_, i) => udp(2_000 + i)));
    expect(setTimer).not.toHaveBeenCalled();
    expect(createdSizes(h)).toEqual([36]);
    later(4);
    expect(createdSizes(h)).toEqual([]);
    later(1);
    expect(createdSizes(h)).toEqual([28]);
    h.handoff.stop();
  });

  it('reports mappings but keeps authority in mode announce', () => {
    const h = testHandoff({ handoff: { mode: 'announce' }, timeouts: { udp: '2s', allowBelowMinimum: true } });
    const receiver = new FakeReceiver(v4(SERVER));
    h.send(udp(40_000));
    converse(h, [receiver]);
    expect(receiver.log.filter((line) => line.startsWith('Created'))).toHaveLength(1);
    expect(h.handoff.agent.peerState(v4(POOL4), v4(SERVER))).toBe(PeerState.ACKNOWLEDGING);
    expect(h.g.table.counters().find((c) => c.name === 'sessionsHandedOff')?.value).toBe(0);
    h.g.advance(3_000);
    h.g.engine.expire(Infinity);
    converse(h, [receiver]);
    expect(receiver.log.at(-1)).toMatch(/^Deleted .* reason 1$/);
    expect(h.g.table.counters().find((c) => c.name === 'sessionsTimedOut')?.value).toBe(1);
  });

  it('builds nothing in mode off, so the gateway sends nothing but translated packets', () => {
    const g = testGateway({ handoff: { mode: 'off' } });
    expect(createHandoff(g, g.config.handoff, { logger: silentLogger() })).toBeNull();
    expect(() => new Handoff(g, g.config.handoff, { logger: silentLogger() })).toThrow(/off/);
    const written = g.send(udp(40_000));
    expect(written).toHaveLength(1);
    expect(read16(written[0]!, 22)).toBe(53);
  });

  it('tags every datagram with the configured key and refuses untagged replies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-handoff-key-'));
    dirs.push(dir);
    const file = join(dir, 'handoff.key');
    writeFileSync(file, '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const h = testHandoff({ handoff: { keyFile: file } });
    h.send(udp(40_000));
    const [hello] = h.outbox;
    expect(hello!.message.tag).toHaveLength(16);
    converse(h, [new FakeReceiver(v4(SERVER))]);
    expect(h.handoff.agent.counters.get('authenticationFailed')).toBeGreaterThanOrEqual(1);
    expect(h.handoff.agent.peerState(v4(POOL4), v4(SERVER))).toBe(PeerState.SILENT);
  });

  it('lists its hosts: state, window, hand-offs and when each was last heard', () => {
    const h = testHandoff();
    h.send(udp(40_000), ipv6({ src: CLIENT, dst: '2001:db8:64::cb00:7109', protocol: 17, srcPort: 40_001, dstPort: 53 }));
    converse(h, [new FakeReceiver(v4(SERVER))]);
    const rows = h.handoff.hosts().sort((a, b) => a.host.localeCompare(b.host));
    expect(rows).toEqual([
      expect.objectContaining({ nat: POOL4, host: SERVER, state: 'authoritative', window: 64, inFlight: 0, handedOff: 1, lastHeardMsAgo: expect.any(Number) }),
      expect.objectContaining({ nat: POOL4, host: '203.0.113.9', state: 'silent', handedOff: 0, lastHeardMsAgo: null }),
    ]);
  });

  it('turns a failure in its hooks into a counter, never into a lost packet', () => {
    const h = testHandoff();
    h.handoff.tracker.sessionCreated = () => {
      throw new Error('tracker bug');
    };
    h.handoff.misses.miss = () => {
      throw new Error('miss bug');
    };
    expect(h.send(udp(40_000))).toHaveLength(1);
    // A miss from the server, offered to the failing handler, still gets the NAT64's answer (port unreachable).
    const [answer] = h.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: 53, dstPort: 5555 }));
    expect([answer![9], answer![20], answer![21]]).toEqual([1, 3, 3]);
    expect(h.handoff.counters.get('eventErrors')).toBe(2);
    // A new flow offered to a failing client-miss handler (armed: it remembers an evicted flow) is translated all the same.
    h.handoff.clientMisses.miss = () => {
      throw new Error('client miss bug');
    };
    h.handoff.evictedFlows.remember(17, new Uint8Array(16), 0, 1, v4(SERVER), 53, v4(POOL4));
    expect(h.send(udp(40_001))).toHaveLength(1);
    // Counted once for the handler, once for the tracker (still failing) on the session made instead.
    expect(h.handoff.counters.get('eventErrors')).toBe(4);
  });

  it('over Geneve, reports a new mapping before its first packet is encapsulated, so its Created can ride on that packet', () => {
    const g = testGateway({ handoff: { transport: 'geneve' } });
    const handoff = new Handoff(g, g.config.handoff, { logger: silentLogger() });
    handoff.start(0);
    const geneve = handoff.transport as GeneveTransport;
    const order: string[] = [];
    const tunnels = geneve.tunnels;
    const encapsulate = tunnels.encapsulate.bind(tunnels);
    tunnels.encapsulate = (out, from, natAddress, host, protocol, natPort) => {
      order.push(`packet ${natPort}`);
      encapsulate(out, from, natAddress, host, protocol, natPort);
    };
    const mappingCreated = geneve.mappingCreated.bind(geneve);
    geneve.mappingCreated = (natAddress, host, entry, ref) => {
      order.push(`mapping ${entry.natPort}`);
      mappingCreated(natAddress, host, entry, ref);
    };
    g.send(udp(40_000), udp(40_001));
    const [first, second] = [order[0]!.split(' ')[1], order[2]!.split(' ')[1]];
    expect(order).toEqual([`mapping ${first}`, `packet ${first}`, `mapping ${second}`, `packet ${second}`]);
    expect(first).not.toBe(second);
    handoff.stop();
  });

  it('builds the one transport handoff.transport names: messages on 62863, Geneve on 6081, bypass on 6081, or all in auto', () => {
    const secretDir = mkdtempSync(join(tmpdir(), 'n64-handoff-'));
    dirs.push(secretDir);
    const secretFile = join(secretDir, 'bypass-secret');
    const listens = (transport: string) => {
      const g = testGateway({ handoff: { transport, bypass: { secretFile } } });
      const handoff = new Handoff(g, g.config.handoff, { logger: silentLogger() });
      handoff.start(0);
      const unclaimed = (port: number) => {
        const before = g.counter('localUnclaimed');
        g.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: port, dstPort: port }));
        return g.counter('localUnclaimed') > before;
      };
      const groups = handoff
        .counterLines()
        .map((line) => line.group)
        .filter((group, i, all) => group !== all[i - 1]);
      const seen = { 62863: !unclaimed(HANDOFF_PORT), 6081: !unclaimed(6081), groups };
      handoff.stop();
      return seen;
    };
    expect(listens('handoff')).toEqual({ 62863: true, 6081: false, groups: ['handoff', 'agent'] });
    expect(listens('geneve')).toEqual({ 62863: false, 6081: true, groups: ['handoff', 'agent', 'geneve'] });
    expect(listens('auto')).toEqual({ 62863: true, 6081: true, groups: ['handoff', 'agent', 'geneve', 'bypass'] });
    expect(listens('bypass')).toEqual({ 62863: false, 6081: true, groups: ['handoff', 'agent', 'bypass'] });
  });

  it('unhooks everything when stopped', () => {
    const h = testHandoff();
    h.handoff.stop();
    h.send(udp(40_000));
    expect(h.outbox).toEqual([]);
    h.send(ipv4({ src: SERVER, dst: POOL4, protocol: 17, srcPort: HANDOFF_PORT, dstPort: HANDOFF_PORT }));
    expect(h.g.counter('localUnclaimed')).toBe(1);
    expect(h.handoff.counters.get('mappingsCreated')).toBe(0);
  });
});
