// What the gateway side of handoff v1 (@nat64/handoff-agent) and a receiver must do together over
// real UDP on loopback (topology in support/loopback.ts), as one suite: agent-receiver.test.ts runs
// it against the receiver package alone and against the receiver daemon (support/receivers.ts).
import { afterEach, expect, it } from 'vitest';
import { DeleteReason, MessageType, Protocol, type HandoffEntry } from '@nat64/handoff-codec';
import { manualMicroClock } from '@nat64/service';
import { PeerState, QueryOutcome, QueryVerdict, type HandoffAgentEvents } from '@nat64/handoff-agent';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { LoopbackGateway, RECEIVER_HOST, loopback, waitFor, type LoopbackAgentOptions } from './support/loopback.js';
import type { ReceiverSetup, ReceiverUnderTest, StartReceiver } from './support/receivers.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');

/** The i-th mapping of a gateway: NAT port 40000 + i, client 2001:db8::(i+1) port 50000 + i, toward the receiver's host. */
function nthEntry(natAddress: number, i: number): HandoffEntry {
  return entry({ natAddress, natPort: 40000 + i, who: i + 1, clientPort: 50000 + i, serverAddress: RECEIVER_HOST });
}
/** The receiver's log line for nthEntry(…, i) of NAT address 127.0.0.n. */
function line(kind: 'Created' | 'Deleted', n: number, i: number): string {
  return `${kind} 127.0.0.${n}:${40000 + i} [2001:db8::${(i + 1).toString(16)}]:${50000 + i}`;
}

/** A gateway model: live mappings toward the receiver host, re-announced whenever the peer comes up. */
class Mappings {
  readonly live = new Map<number, HandoffEntry>();
  handedOff = 0;
  readonly released: HandoffEntry[] = [];
  readonly answers: Array<{ token: number; outcome: QueryOutcome; entry: HandoffEntry | null }> = [];
  ups = 0;
  gateway!: LoopbackGateway;

  readonly events: Partial<HandoffAgentEvents> = {
    onPeerUp: (natAddress, host) => {
      this.ups++;
      for (const mapping of this.live.values()) this.gateway.agent.mappingCreated(natAddress, host, mapping);
    },
    onHandedOff: (_natAddress, _host, acked) => {
      this.handedOff += acked.count;
    },
    onRelease: (_natAddress, _host, entries) => {
      for (const released of entries) this.released.push({ ...released, clientAddress: released.clientAddress.slice() });
    },
    onAnswer: (token, outcome, found) => {
      this.answers.push({ token, outcome, entry: found === null ? null : { ...found, clientAddress: found.clientAddress.slice() } });
    },
  };

  create(natAddress: number, i: number): void {
    const mapping = nthEntry(natAddress, i);
    this.live.set(i, mapping);
    this.gateway.agent.mappingCreated(natAddress, RECEIVER_HOST, mapping);
  }

  delete(natAddress: number, i: number): void {
    const mapping = this.live.get(i)!;
    this.live.delete(i);
    this.gateway.agent.mappingDeleted(natAddress, RECEIVER_HOST, mapping, DeleteReason.IDLE_TIMEOUT);
  }
}

export function agentAgainstReceiver(startReceiver: StartReceiver): void {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openGateway(n: number, receiver: ReceiverUnderTest, options: Omit<LoopbackAgentOptions, 'mode' | 'events'> = {}): Promise<Mappings> {
    const mappings = new Mappings();
    mappings.gateway = await LoopbackGateway.open([loopback(n)], receiver.port, { mode: 'full', events: mappings.events, ...options });
    cleanups.push(() => mappings.gateway.close());
    return mappings;
  }

  async function setUp(n: number, setup: ReceiverSetup = {}, options: Omit<LoopbackAgentOptions, 'mode' | 'events'> = {}) {
    const receiver = await startReceiver(setup);
    cleanups.push(() => receiver.cleanup());
    const mappings = await openGateway(n, receiver, { ...(setup.key ? { key: setup.key } : {}), ...options });
    return { receiver, mappings, agent: mappings.gateway.agent };
  }

  async function handOff(receiver: ReceiverUnderTest, mappings: Mappings, n: number, count: number): Promise<void> {
    for (let i = 0; i < count; i++) mappings.create(loopback(n), i);
    await waitFor('the peer to come up', () => mappings.ups === 1);
    await waitFor('every hand-off', () => mappings.handedOff === count);
    await waitFor('the log', () => receiver.lines().filter((text) => text.startsWith('Created')).length === count);
  }

  it('says HELLO and learns it is authoritative; a restarted gateway, with a new epoch, is initialized again', async () => {
    const n = 30;
    const { receiver, mappings, agent } = await setUp(n);
    await handOff(receiver, mappings, n, 2);
    expect(agent.peerState(loopback(n), RECEIVER_HOST)).toBe(PeerState.AUTHORITATIVE);
    expect(receiver.lines()[0]).toBe(`Initialized 127.0.0.${n}`);
    await mappings.gateway.close();
    const restarted = await openGateway(n, receiver);
    expect(restarted.gateway.agent.epoch).not.toBe(agent.epoch);
    restarted.create(loopback(n), 5);
    await waitFor('the new epoch to come up', () => restarted.ups === 1 && restarted.handedOff === 1);
    expect(restarted.gateway.agent.peerState(loopback(n), RECEIVER_HOST)).toBe(PeerState.AUTHORITATIVE);
    expect(receiver.lines().filter((text) => text === `Initialized 127.0.0.${n}`)).toHaveLength(2);
    expect(receiver.lines().at(-1)).toBe(line('Created', n, 5));
  });

  it('logs created and deleted mappings exactly, and reports hand-offs once acknowledged', async () => {
    const n = 31;
    const { receiver, mappings, agent } = await setUp(n);
    await handOff(receiver, mappings, n, 100);
    expect(agent.peerState(loopback(n), RECEIVER_HOST)).toBe(PeerState.AUTHORITATIVE);
    for (let i = 0; i < 100; i += 3) mappings.delete(loopback(n), i);
    await waitFor('the deletions', () => receiver.lines().length === 1 + 100 + 34 && agent.peers()[0]!.inFlight === 0);
    const deleted = Array.from({ length: 34 }, (_, k) => line('Deleted', n, 3 * k));
    expect(receiver.lines()).toEqual([`Initialized 127.0.0.${n}`, ...Array.from({ length: 100 }, (_, i) => line('Created', n, i)), ...deleted]);
    expect(mappings.handedOff).toBe(100);
    expect(agent.counters.get('retransmissions')).toBe(0);
    expect(agent.counters.get('stale') + agent.counters.get('authenticationFailed')).toBe(0);
  });

  it('retransmits what the network lost until it is acknowledged, and the receiver logs each mapping once', async () => {
    const n = 36;
    // Loses the first HELLO, and the first two CREATED datagrams once the receiver is up.
    let up = false;
    let hellos = 0;
    let created = 0;
    const lose = (payload: Uint8Array) => (payload[1] === MessageType.HELLO ? hellos++ === 0 : payload[1] === MessageType.CREATED && up && created++ < 2);
    const { receiver, mappings, agent } = await setUp(n, {}, { lose });
    mappings.create(loopback(n), 0);
    await waitFor('the peer to come up', () => mappings.ups === 1);
    up = true;
    for (let i = 1; i < 6; i++) {
      mappings.create(loopback(n), i);
      agent.flush();
    }
    await waitFor('every hand-off', () => mappings.handedOff === 6 && agent.peers()[0]!.inFlight === 0);
    expect(agent.counters.get('helloSent')).toBeGreaterThan(1);
    expect(agent.counters.get('retransmissions')).toBeGreaterThan(0);
    expect(created).toBeGreaterThan(2);
    expect(receiver.lines()).toEqual([`Initialized 127.0.0.${n}`, ...Array.from({ length: 6 }, (_, i) => line('Created', n, i))]);
  });

  it('finds a handed-off entry with a query, and learns that another port is free', async () => {
    const n = 32;
    const { receiver, mappings, agent } = await setUp(n);
    await handOff(receiver, mappings, n, 10);
    expect(agent.query(loopback(n), RECEIVER_HOST, Protocol.TCP, 40005, RECEIVER_HOST, 443, 1)).toBe(QueryVerdict.SENT);
    expect(agent.query(loopback(n), RECEIVER_HOST, Protocol.TCP, 40050, RECEIVER_HOST, 443, 2)).toBe(QueryVerdict.SENT);
    await waitFor('both answers', () => mappings.answers.length === 2);
    const byToken = new Map(mappings.answers.map((answer) => [answer.token, answer]));
    expect(byToken.get(1)).toMatchObject({
      outcome: QueryOutcome.FOUND,
      entry: { natPort: 40005, clientPort: 50005, clientAddress: nthEntry(0, 5).clientAddress },
    });
    expect(byToken.get(2)).toEqual({ token: 2, outcome: QueryOutcome.NOT_FOUND, entry: null });
  });

  it('finds the NAT port a client holds with a CLIENT-QUERY, and learns that another client holds none', async () => {
    const n = 37;
    const { receiver, mappings, agent } = await setUp(n);
    await handOff(receiver, mappings, n, 10);
    const held = nthEntry(loopback(n), 7);
    const stranger = nthEntry(loopback(n), 70);
    const ask = (client: { clientAddress: Uint8Array; clientPort: number }, token: number) =>
      agent.clientQuery(loopback(n), RECEIVER_HOST, { protocol: Protocol.TCP, ...client, serverAddress: RECEIVER_HOST, serverPort: 443 }, token);
    expect(ask(held, 3)).toBe(QueryVerdict.SENT);
    expect(ask(stranger, 4)).toBe(QueryVerdict.SENT);
    await waitFor('both answers', () => mappings.answers.length === 2);
    const byToken = new Map(mappings.answers.map((answer) => [answer.token, answer]));
    expect(byToken.get(3)).toMatchObject({ outcome: QueryOutcome.FOUND, entry: { natPort: 40007, clientPort: 50007, clientAddress: held.clientAddress } });
    expect(byToken.get(4)).toEqual({ token: 4, outcome: QueryOutcome.NOT_FOUND, entry: null });
  });

  it('keeps a gateway with a window of 2 going through a receiver that holds its ACKs, without retransmissions', async () => {
    const n = 38;
    const { receiver, mappings, agent } = await setUp(n, { ackDelayMs: 20 }, { maxWindow: 2 });
    await handOff(receiver, mappings, n, 400);
    expect(agent.peers()[0]!.window).toBe(2);
    // 400 entries fill 12 datagrams: every window of 2 waits for a held ACK, and still gets it.
    expect(agent.counters.get('reliableSent')).toBeGreaterThanOrEqual(12);
    expect(agent.counters.get('retransmissions')).toBe(0);
    expect(receiver.lines().filter((text) => text.startsWith('Created'))).toHaveLength(400);
  });

  it('passes an idle RELEASE from the receiver to onRelease and acknowledges it', async () => {
    const n = 33;
    const clock = manualMicroClock(Date.now() * 1000);
    const { receiver, mappings } = await setUp(n, { idleTimeoutMs: 600_000, clock });
    await handOff(receiver, mappings, n, 3);
    clock.advance(11 * 60_000_000);
    receiver.tick();
    await waitFor('the RELEASE', () => mappings.released.length === 3);
    expect(mappings.released.map((released) => released.natPort).sort()).toEqual([40000, 40001, 40002]);
    await waitFor('its acknowledgement', () => receiver.counter('releasesAcknowledged') >= 1);
    expect(receiver.counter('releaseRetransmissions')).toBe(0);
  });

  it('works end to end with a shared key, and gets nowhere with the wrong one', async () => {
    const n = 34;
    const { receiver, mappings, agent } = await setUp(n, { key: KEY });
    await handOff(receiver, mappings, n, 5);
    agent.query(loopback(n), RECEIVER_HOST, Protocol.TCP, 40001, RECEIVER_HOST, 443, 9);
    await waitFor('the answer', () => mappings.answers.length === 1);
    expect(mappings.answers[0]).toMatchObject({ token: 9, outcome: QueryOutcome.FOUND });

    const wrong = await openGateway(35, receiver, { key: new Uint8Array(32).fill(7) });
    wrong.create(loopback(35), 0);
    await waitFor('the receiver to refuse it', () => receiver.counter('authenticationFailed') >= 1);
    expect(wrong.gateway.agent.peerState(loopback(35), RECEIVER_HOST)).toBe(PeerState.SILENT);
    expect(receiver.lines()).not.toContain('Initialized 127.0.0.35');

    const keyless = await openGateway(38, receiver);
    keyless.create(loopback(38), 0);
    await waitFor('the receiver to refuse the one without a key', () => receiver.counter('authenticationFailed') >= 2);
    expect(keyless.gateway.agent.peerState(loopback(38), RECEIVER_HOST)).toBe(PeerState.SILENT);
  });
}
