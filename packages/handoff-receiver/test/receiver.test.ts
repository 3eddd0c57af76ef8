import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnTable, MemoryStore, StoreError, checkEntry, ownEntry, type ConnOperation, type ConnStore, type PipelinedConnStore } from '@nat64/conntrack';
import { DatagramView, DecodeStatus, HANDOFF_VERSION, MessageType, Protocol, datagram, inspectDatagram, type HandoffMessage } from '@nat64/handoff-codec';
import { Counters, manualMicroClock, silentLogger } from '@nat64/service';
import { CommitClock, PIPELINE_AT_OPERATIONS } from '../src/commit-pipeline.js';
import { CookieJar, newCookieSecret } from '../src/cookies.js';
import { RECEIVER_COUNTERS } from '../src/counters.js';
import { Receiver } from '../src/receiver.js';
import { NAT, entry } from './support/entries.js';
import { FlakyStore, encodeDatagram } from './support/datagrams.js';
import { memoryLog } from './support/memory-log.js';

/** NAT, the address the entries name. */
const GATEWAY = '192.0.2.7';
const HOUR_US = 3_600_000_000;

/** A store whose commits fail while `failing` is set. */
/** A background-committing store that can lose a commit, as a disk failure in the writer thread would. */
class FlakyPipelinedStore extends MemoryStore implements PipelinedConnStore {
  failNext = false;
  failure: StoreError | undefined;
  commitPipelined(events: Parameters<ConnStore['commit']>[0], side: Parameters<ConnStore['commit']>[1]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.failNext) {
      this.failNext = false;
      this.failure = new StoreError('io', 'injected: write failed in the writer thread');
      return Promise.reject(this.failure);
    }
    this.commit(events, side);
    return Promise.resolve();
  }
  prunePipelined(before: number, limit: number): Promise<number> {
    return this.failure ? Promise.reject(this.failure) : Promise.resolve(this.prune(before, limit));
  }
  recover(): Promise<void> {
    this.failure = undefined;
    return Promise.resolve();
  }
  closeAsync(): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** A background-committing store whose commits become durable, in order, only when the test says so. */
class HeldPipelinedStore extends MemoryStore implements PipelinedConnStore {
  readonly failure: StoreError | undefined = undefined;
  /** Entries of each commit handed to the store, in order. */
  readonly commitSizes: number[] = [];
  private readonly held: Array<() => void> = [];
  commitPipelined(events: Parameters<ConnStore['commit']>[0], side: Parameters<ConnStore['commit']>[1]): Promise<void> {
    this.commitSizes.push(events.length);
    return new Promise((resolve) =>
      this.held.push(() => {
        this.commit(events, side);
        resolve();
      }),
    );
  }
  /** Makes the oldest commit not yet durable durable. */
  release(): void {
    this.held.shift()?.();
  }
  prunePipelined(before: number, limit: number): Promise<number> {
    return Promise.resolve(this.prune(before, limit));
  }
  recover(): Promise<void> {
    return Promise.resolve();
  }
  closeAsync(): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Lets the promise callbacks of released commits run. */
const settleCallbacks = () => new Promise<void>((resolve) => setImmediate(resolve));

function harness(store: ConnStore = new MemoryStore(), capacity = 3) {
  const clock = manualMicroClock();
  const commitClock = new CommitClock(clock, 0);
  const table = ConnTable.open(store, { capacity, idleTimeout: HOUR_US, clock: commitClock.read });
  const lines: string[] = [];
  const log = memoryLog(lines);
  const sent: HandoffMessage[] = [];
  const view = new DatagramView();
  const counters = new Counters(RECEIVER_COUNTERS);
  const cookies = new CookieJar(newCookieSecret());
  const receiver = new Receiver(
    {
      table,
      commitClock,
      log,
      cookies,
      clock,
      counters,
      logger: silentLogger(),
      send: (bytes: Buffer) => {
        expect(inspectDatagram(bytes, 0, bytes.length, view)).toBe(DecodeStatus.OK);
        sent.push(datagram.decode(bytes, 0, bytes.length));
      },
      scheduleFlush: () => undefined,
      options: { authoritative: true, allows: () => true, keyFor: () => undefined, maxPeers: 10, capabilities: () => 1 },
    },
    [],
  );
  const epoch = 99n;
  const cookie = cookies.cookieFor(GATEWAY, epoch);
  const deliver = (message: Partial<HandoffMessage> & { type: number }) => {
    const full = { version: HANDOFF_VERSION, flags: 0, epoch, cookie, sequence: 0, ...message } as HandoffMessage;
    receiver.handleDatagram(encodeDatagram(full), GATEWAY, 62863);
  };
  return { receiver, clock, lines, sent, counters, deliver, table };
}

describe('receiver engine', () => {
  it('acknowledges only after the store commits, and applies a retransmission once the store recovers', async () => {
    const store = new FlakyStore();
    const { receiver, sent, lines, counters, deliver } = harness(store);
    store.failing = true;
    deliver({ type: MessageType.CREATED, sequence: 1, entries: [entry({ natPort: 10, clientPort: 1001 })] });
    await receiver.flush();
    expect(sent).toEqual([]);
    expect(lines).toEqual([]);
    expect(counters.get('storeFailures')).toBe(1);
    store.failing = false;
    deliver({ type: MessageType.CREATED, sequence: 1, entries: [entry({ natPort: 10, clientPort: 1001 })] });
    await receiver.flush();
    expect(sent.map((message) => [message.type, 'cumulative' in message ? message.cumulative : -1])).toEqual([[MessageType.ACK, 1]]);
    expect(lines).toEqual(['Initialized 192.0.2.7', 'Created 192.0.2.7:10 [2001:db8::1]:1001']);
  });

  it('reloads the table and every gateway progress from the store when a background commit fails', async () => {
    const store = new FlakyPipelinedStore();
    const { receiver, sent, lines, counters, deliver, table } = harness(store);
    deliver({ type: MessageType.CREATED, sequence: 1, entries: [entry({ natPort: 10, clientPort: 1001 })] });
    await receiver.flush();
    store.failNext = true;
    deliver({ type: MessageType.CREATED, sequence: 2, entries: [entry({ natPort: 11, who: 2, clientPort: 1002 })] });
    await receiver.flush();
    expect(counters.get('storeFailures')).toBe(1);
    await receiver.settle();
    expect(table.failure).toBeUndefined();
    // Memory is back to what is durable: entry 11 is gone, and message 2 is new again.
    expect(table.size).toBe(1);
    sent.length = 0;
    deliver({ type: MessageType.CREATED, sequence: 2, entries: [entry({ natPort: 11, who: 2, clientPort: 1002 })] });
    await receiver.flush();
    expect(sent.map((message) => ('cumulative' in message ? message.cumulative : -1))).toEqual([2]);
    expect(lines).toEqual(['Initialized 192.0.2.7', 'Created 192.0.2.7:10 [2001:db8::1]:1001', 'Created 192.0.2.7:11 [2001:db8::2]:1002']);
  });

  it('below a backlog, holds the next commit until the one in flight is durable, then stores what waited in one commit', async () => {
    const store = new HeldPipelinedStore();
    const { receiver, sent, lines, deliver } = harness(store, 100);
    deliver({ type: MessageType.CREATED, sequence: 1, entries: [entry({ natPort: 10, who: 1, clientPort: 1001 })] });
    void receiver.flush();
    deliver({ type: MessageType.CREATED, sequence: 2, entries: [entry({ natPort: 11, who: 2, clientPort: 1002 })] });
    void receiver.flush();
    deliver({
      type: MessageType.CREATED,
      sequence: 3,
      entries: [entry({ natPort: 12, who: 3, clientPort: 1003 }), entry({ natPort: 13, who: 4, clientPort: 1004 })],
    });
    void receiver.flush();
    expect(store.commitSizes).toEqual([1]);
    expect(receiver.commitQueue).toEqual({ entries: 3, commits: 1 });
    store.release();
    await settleCallbacks();
    // Nothing is acknowledged or logged ahead of its commit.
    expect(store.commitSizes).toEqual([1, 3]);
    expect(sent.map((message) => [message.type, 'cumulative' in message ? message.cumulative : -1])).toEqual([[MessageType.ACK, 1]]);
    expect(lines).toEqual(['Initialized 192.0.2.7', 'Created 192.0.2.7:10 [2001:db8::1]:1001']);
    store.release();
    await receiver.settle();
    expect(sent.map((message) => [message.type, 'cumulative' in message ? message.cumulative : -1])).toEqual([
      [MessageType.ACK, 1],
      [MessageType.ACK, 3],
    ]);
    expect(lines.slice(2)).toEqual([
      'Created 192.0.2.7:11 [2001:db8::2]:1002',
      'Created 192.0.2.7:12 [2001:db8::3]:1003',
      'Created 192.0.2.7:13 [2001:db8::4]:1004',
    ]);
  });

  it('starts another commit while one is in flight once a backlog of PIPELINE_AT_OPERATIONS entries waits', async () => {
    const store = new HeldPipelinedStore();
    const { receiver, deliver } = harness(store, 4 * PIPELINE_AT_OPERATIONS);
    const perMessage = 30;
    let port = 1;
    const message = (sequence: number) => {
      deliver({ type: MessageType.CREATED, sequence, entries: Array.from({ length: perMessage }, () => entry({ natPort: port++, who: 1, clientPort: 1001 })) });
      void receiver.flush();
    };
    message(1);
    let sequence = 2;
    for (; (sequence - 1) * perMessage < PIPELINE_AT_OPERATIONS; sequence++) message(sequence);
    expect(store.commitSizes).toEqual([perMessage]);
    message(sequence);
    expect(store.commitSizes).toEqual([perMessage, sequence * perMessage - perMessage]);
    store.release();
    store.release();
    await receiver.settle();
    expect(receiver.commitQueue).toEqual({ entries: 0, commits: 0 });
  });

  it('ends idle entries, logs them, and tells the gateway with RELEASE until it acknowledges', async () => {
    const { receiver, clock, sent, lines, deliver } = harness();
    deliver({ type: MessageType.CREATED, sequence: 1, entries: [entry({ natPort: 10, clientPort: 1001 }), entry({ natPort: 11, who: 2 })] });
    await receiver.flush();
    sent.length = 0;
    clock.advance(HOUR_US / 2);
    deliver({
      type: MessageType.QUERY,
      sequence: 5,
      protocol: Protocol.TCP,
      natPort: 11,
      natAddress: NAT,
      serverAddress: 0,
      serverPort: 0,
    } as Partial<HandoffMessage> & { type: number });
    sent.length = 0;
    clock.advance(HOUR_US / 2 + 1);
    receiver.tick();
    await receiver.settle();
    expect(lines.slice(3)).toEqual(['Deleted 192.0.2.7:10 [2001:db8::1]:1001']);
    const release = sent.find((message) => message.type === MessageType.RELEASE);
    expect(release).toMatchObject({ sequence: 1, entries: [{ natPort: 10, clientPort: 1001 }] });
    // No ACK yet: retransmitted after the timeout, not before.
    sent.length = 0;
    clock.advance(500_000);
    receiver.tick();
    await receiver.settle();
    expect(sent).toEqual([]);
    clock.advance(600_000);
    receiver.tick();
    await receiver.settle();
    expect(sent.map((message) => message.type)).toEqual([MessageType.RELEASE]);
    deliver({ type: MessageType.ACK, cumulative: 1, blocks: [] });
    sent.length = 0;
    clock.advance(10_000_000);
    receiver.tick();
    await receiver.settle();
    expect(sent).toEqual([]);
  });

  it('evicts the least recently used entry when full, and releases it', async () => {
    const { receiver, sent, lines, deliver } = harness();
    deliver({
      type: MessageType.CREATED,
      sequence: 1,
      entries: [entry({ natPort: 1, clientPort: 1001 }), entry({ natPort: 2, who: 2 }), entry({ natPort: 3, who: 3 }), entry({ natPort: 4, who: 4 })],
    });
    await receiver.flush();
    expect(lines).toContain('Deleted 192.0.2.7:1 [2001:db8::1]:1001');
    receiver.tick();
    await receiver.settle();
    expect(sent.find((message) => message.type === MessageType.RELEASE)).toMatchObject({ entries: [{ natPort: 1 }] });
  });

  it('reads the entries of messages that waited for a commit as the old decoding at arrival did (random datagrams)', async () => {
    const handoffEntry = fc.record({
      protocol: fc.constantFrom(Protocol.TCP, Protocol.UDP, 99),
      natAddress: fc.constantFrom(NAT, NAT + 1),
      natPort: fc.integer({ min: 0, max: 7 }),
      who: fc.integer({ min: 1, max: 4 }),
      time: fc.integer({ min: 1, max: 3 }),
    });
    const message = fc.record({ created: fc.boolean(), entries: fc.array(handoffEntry, { minLength: 1, maxLength: 12 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 12 }), async (messages) => {
        const { receiver, counters, deliver, table } = harness();
        // What decoding each message at arrival gave: its valid entries, applied in order.
        const reference = ConnTable.open(new MemoryStore(), { capacity: 3, idleTimeout: HOUR_US, clock: manualMicroClock() });
        let rejected = 0;
        for (const [index, { created, entries }] of messages.entries()) {
          const wire = entries.map((fields) => entry(fields));
          const operations: ConnOperation[] = [];
          for (const sent of wire) {
            const conn = ownEntry(sent, sent.time);
            if (sent.natAddress !== NAT || checkEntry(conn) !== undefined) rejected++;
            else operations.push(created ? { op: 'create', entry: conn } : { op: 'delete', entry: conn, reason: 'gateway' });
          }
          reference.apply(operations);
          // All of them queue before the first commit starts.
          deliver({ type: created ? MessageType.CREATED : MessageType.DELETED, sequence: index + 1, entries: wire });
        }
        await receiver.flush();
        expect([...table.entries()]).toEqual([...reference.entries()]);
        expect(counters.get('entriesRejected')).toBe(rejected);
      }),
      { numRuns: 200 },
    );
  });
});
