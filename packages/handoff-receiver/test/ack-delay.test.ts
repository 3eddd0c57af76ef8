import { describe, expect, it } from 'vitest';
import { ConnTable, MemoryStore } from '@nat64/conntrack';
import { HANDOFF_VERSION, MessageType, datagram, type HandoffMessage } from '@nat64/handoff-codec';
import { Counters, manualMicroClock, silentLogger } from '@nat64/service';
import { ACK_AT_ONCE_MESSAGES } from '../src/ack-delay.js';
import { CommitClock } from '../src/commit-pipeline.js';
import { CookieJar, newCookieSecret } from '../src/cookies.js';
import { RECEIVER_COUNTERS } from '../src/counters.js';
import { Receiver } from '../src/receiver.js';
import { NAT, entry } from './support/entries.js';
import { memoryLog } from './support/memory-log.js';
import { encodeDatagram } from './support/datagrams.js';

/** NAT, the address the entries name. */
const GATEWAY = '192.0.2.7';
/** Another NAT address of the same gateway (the same epoch). */
const OTHER_NAT = '192.0.2.8';

/** A receiver engine with an ACK delay whose timer the test fires by hand. */
function harness(ackDelayMs: number) {
  const clock = manualMicroClock();
  const commitClock = new CommitClock(clock, 0);
  const table = ConnTable.open(new MemoryStore(), { capacity: 1000, idleTimeout: Infinity, clock: commitClock.read });
  const acks: number[] = [];
  /** Every ACK as address:cumulative. */
  const acksTo: string[] = [];
  const timers: { ms: number; fire: () => void; cancelled: boolean }[] = [];
  const cookies = new CookieJar(newCookieSecret());
  const receiver = new Receiver(
    {
      table,
      commitClock,
      log: memoryLog([]),
      cookies,
      clock,
      counters: new Counters(RECEIVER_COUNTERS),
      logger: silentLogger(),
      send: (bytes: Buffer, _port: number, address: string) => {
        const message = datagram.decode(bytes, 0, bytes.length);
        if (message.type !== MessageType.ACK) return;
        acks.push(message.cumulative);
        acksTo.push(`${address}:${message.cumulative}`);
      },
      scheduleFlush: () => undefined,
      options: { authoritative: true, allows: () => true, keyFor: () => undefined, maxPeers: 10, capabilities: () => 1 },
      ackDelayMs,
      startTimer: (ms, fire) => {
        const timer = { ms, fire, cancelled: false };
        timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
    },
    [],
  );
  /** CREATED number `sequence` from NAT address `from` under `epoch`, committed on its own. */
  const created = async (sequence: number, from = GATEWAY, epoch = 99n) => {
    const message = {
      type: MessageType.CREATED,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch,
      cookie: cookies.cookieFor(from, epoch),
      sequence,
      entries: [entry({ natAddress: from === GATEWAY ? NAT : NAT + 1, natPort: sequence, who: sequence })],
    } as HandoffMessage;
    receiver.handleDatagram(encodeDatagram(message), from, 62863);
    await receiver.flush();
  };
  /** Fires the timers that are running, as their delay ending would. */
  const expire = () => {
    for (const timer of timers.splice(0)) if (!timer.cancelled) timer.fire();
  };
  return { receiver, acks, acksTo, timers, created, expire, clock };
}

describe('delayed ACKs', () => {
  it('acknowledges commits inside the delay with one ACK, carrying the last cumulative number', async () => {
    const { acks, timers, created, expire } = harness(4);
    for (let sequence = 1; sequence <= 5; sequence++) await created(sequence);
    expect(acks).toEqual([]);
    expect(timers.map((timer) => timer.ms)).toEqual([4]);
    expire();
    expect(acks).toEqual([5]);
    await created(6);
    expire();
    expect(acks).toEqual([5, 6]);
  });

  it(`acknowledges at once when ${ACK_AT_ONCE_MESSAGES} messages wait, so that a gateway's window does not wait for the delay`, async () => {
    const { acks, created, expire } = harness(4);
    for (let sequence = 1; sequence <= ACK_AT_ONCE_MESSAGES + 3; sequence++) await created(sequence);
    expect(acks).toEqual([ACK_AT_ONCE_MESSAGES]);
    expire();
    expect(acks).toEqual([ACK_AT_ONCE_MESSAGES, ACK_AT_ONCE_MESSAGES + 3]);
  });

  it('acknowledges a retransmission at once with everything durable, and sends nothing more when the delay ends', async () => {
    const { acks, created, expire } = harness(4);
    for (let sequence = 1; sequence <= 3; sequence++) await created(sequence);
    expect(acks).toEqual([]);
    await created(2);
    expect(acks).toEqual([3]);
    expire();
    expect(acks).toEqual([3]);
  });

  it('sends the ACKs it holds when the receiver stops delaying them, and every later one at once', async () => {
    const { receiver, acks, created } = harness(4);
    await created(1);
    await created(2);
    receiver.stopDelayingAcks();
    expect(acks).toEqual([2]);
    await created(3);
    expect(acks).toEqual([2, 3]);
  });

  it('sends an ACK that has waited half the delay when its gateway sends again, from any of its NAT addresses', async () => {
    const { acksTo, timers, created, expire, clock } = harness(4);
    await created(1);
    clock.advance(2000);
    await created(1, OTHER_NAT);
    expect(acksTo).toEqual([`${GATEWAY}:1`]);
    clock.advance(2000);
    await created(2);
    expect(acksTo).toEqual([`${GATEWAY}:1`, `${OTHER_NAT}:1`]);
    // The first timer was cancelled when nothing was left to hold; the one now running covers sequence 2.
    expect(timers.filter((timer) => !timer.cancelled)).toHaveLength(1);
    expire();
    expect(acksTo).toEqual([`${GATEWAY}:1`, `${OTHER_NAT}:1`, `${GATEWAY}:2`]);
  });

  it('holds an ACK younger than half the delay, and one of another gateway (another epoch), until the delay ends', async () => {
    const { acksTo, created, expire, clock } = harness(4);
    await created(1);
    clock.advance(1900);
    await created(2);
    await created(1, OTHER_NAT, 7n);
    clock.advance(1000);
    await created(2, OTHER_NAT, 7n);
    expect(acksTo).toEqual([]);
    expire();
    expect(acksTo.sort()).toEqual([`${GATEWAY}:2`, `${OTHER_NAT}:2`]);
  });

  it('with a delay of 0 acknowledges every commit as soon as it is logged', async () => {
    const { acks, timers, created } = harness(0);
    for (let sequence = 1; sequence <= 3; sequence++) await created(sequence);
    expect(acks).toEqual([1, 2, 3]);
    expect(timers).toEqual([]);
  });
});
