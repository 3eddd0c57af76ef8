import { describe, expect, it } from 'vitest';
import { ConnTable, MemoryStore } from '@nat64/conntrack';
import { HANDOFF_VERSION, MessageType, type HandoffMessage } from '@nat64/handoff-codec';
import { Counters, manualMicroClock, silentLogger } from '@nat64/service';
import { CommitClock } from '../src/commit-pipeline.js';
import { CookieJar, newCookieSecret } from '../src/cookies.js';
import { RECEIVER_COUNTERS } from '../src/counters.js';
import { DEAD_EPOCHS_KEPT, EPOCH_SIDE_PREFIX, EpochBook } from '../src/epochs.js';
import { PEER_SIDE_PREFIX, parseStoredPeers } from '../src/peers.js';
import { Receiver } from '../src/receiver.js';
import { NAT, entry } from './support/entries.js';
import { memoryLog } from './support/memory-log.js';
import { encodeDatagram, FlakyStore } from './support/datagrams.js';

const header = { version: HANDOFF_VERSION, flags: 0 } as const;

describe('EpochBook', () => {
  it('supersedes the current epoch of an address when another one starts, and only of that address', () => {
    const book = new EpochBook(10);
    const [record] = book.start('192.0.2.1', 1n);
    book.start('192.0.2.2', 1n);
    expect(book.start('192.0.2.1', 1n)).toEqual([record]);
    book.start('192.0.2.1', 2n);
    expect(book.isDead('192.0.2.1', 1n)).toBe(true);
    expect(book.isDead('192.0.2.1', 2n)).toBe(false);
    expect(book.isDead('192.0.2.1', 3n)).toBe(false);
    expect(book.isDead('192.0.2.2', 1n)).toBe(false);
    expect(book.currentOf('192.0.2.1')).toBe(2n);
  });

  it('stores an address as its current epoch then the dead ones, newest first, and reads that back', () => {
    const book = new EpochBook(10);
    book.start('192.0.2.1', 0x0123456789abcdefn);
    const [record] = book.start('192.0.2.1', 0xfedcba9876543210n);
    expect(record![0]).toBe(`${EPOCH_SIDE_PREFIX}192.0.2.1`);
    expect(Buffer.from(record![1]!).toString('hex')).toBe('fedcba98765432100123456789abcdef');
    const again = new EpochBook(10);
    again.load([
      [record![0], record![1]!],
      [`${EPOCH_SIDE_PREFIX}192.0.2.9`, new Uint8Array(7)],
    ]);
    expect(again.addresses).toBe(1);
    expect(again.isDead('192.0.2.1', 0x0123456789abcdefn)).toBe(true);
    expect(again.currentOf('192.0.2.1')).toBe(0xfedcba9876543210n);
  });

  it('remembers at most DEAD_EPOCHS_KEPT dead epochs per address and at most its limit of addresses', () => {
    const book = new EpochBook(2);
    for (let epoch = 0n; epoch <= BigInt(DEAD_EPOCHS_KEPT + 1); epoch++) book.start('192.0.2.1', epoch);
    expect(book.isDead('192.0.2.1', 0n)).toBe(false);
    expect(book.isDead('192.0.2.1', 1n)).toBe(true);
    expect(book.start('192.0.2.1', 1000n)[0]![1]).toHaveLength(8 * (1 + DEAD_EPOCHS_KEPT));
    book.start('192.0.2.2', 1n);
    const records = book.start('192.0.2.3', 1n);
    expect(records[1]).toEqual([`${EPOCH_SIDE_PREFIX}192.0.2.1`, null]);
    expect(book.addresses).toBe(2);
  });
});

describe('superseded epochs on the memory store', () => {
  /** NAT, the address the entries name. */
  const GATEWAY = '192.0.2.7';

  /** A store whose commits fail while `failing` is set. */
  function start(store: MemoryStore, cookies: CookieJar, maxPeers = 10) {
    const clock = manualMicroClock();
    const commitClock = new CommitClock(clock, 0);
    const table = ConnTable.open(store, { capacity: 100, idleTimeout: Infinity, clock: commitClock.read });
    const lines: string[] = [];
    const log = memoryLog(lines);
    const sent: number[] = [];
    const counters = new Counters(RECEIVER_COUNTERS);
    const receiver = new Receiver(
      {
        table,
        commitClock,
        log,
        cookies,
        clock,
        counters,
        logger: silentLogger(),
        send: (bytes: Buffer) => sent.push(bytes[1]!),
        scheduleFlush: () => undefined,
        options: { authoritative: true, allows: () => true, keyFor: () => undefined, maxPeers, capabilities: () => 1 },
      },
      parseStoredPeers(store.listSide(PEER_SIDE_PREFIX)),
    );
    const deliver = async (message: HandoffMessage) => {
      receiver.handleDatagram(encodeDatagram(message), GATEWAY, 62863);
      await receiver.flush();
    };
    return { receiver, lines, sent, counters, deliver };
  }

  function created(epoch: bigint, cookie: bigint, sequence: number, who: number): HandoffMessage {
    return { ...header, type: MessageType.CREATED, epoch, cookie, sequence, entries: [entry({ natPort: 100, who })] };
  }

  it('keeps an old epoch dead across a restart on the same store', async () => {
    const store = new MemoryStore();
    const cookies = new CookieJar(newCookieSecret());
    const [e1, e2] = [11n, 22n];
    const [c1, c2] = [cookies.cookieFor(GATEWAY, e1), cookies.cookieFor(GATEWAY, e2)];
    const first = start(store, cookies);
    await first.deliver(created(e1, c1, 1, 1));
    await first.deliver(created(e2, c2, 1, 2));
    await first.deliver(created(e1, c1, 2, 1));
    expect(first.counters.get('supersededEpoch')).toBe(1);
    expect(first.lines).toEqual([
      'Initialized 192.0.2.7',
      'Created 192.0.2.7:100 [2001:db8::1]:40001',
      'Initialized 192.0.2.7',
      'Deleted 192.0.2.7:100 [2001:db8::1]:40001',
      'Created 192.0.2.7:100 [2001:db8::2]:40002',
    ]);
    const second = start(store.reopen(), cookies);
    await second.deliver(created(e1, c1, 2, 1));
    await second.deliver({ ...header, type: MessageType.HELLO, epoch: e1, cookie: 0n, sequence: 5, natAddress: NAT, capabilities: 1 });
    expect(second.counters.get('supersededEpoch')).toBe(2);
    expect(second.lines).toEqual([]);
    expect(second.sent).toEqual([]);
    await second.deliver(created(e2, c2, 2, 3));
    expect(second.sent).toEqual([MessageType.ACK]);
  });

  it('stores the supersession with the retried start when the first commit of the new epoch failed', async () => {
    const store = new FlakyStore();
    const cookies = new CookieJar(newCookieSecret());
    const [e1, e2] = [11n, 22n];
    const [c1, c2] = [cookies.cookieFor(GATEWAY, e1), cookies.cookieFor(GATEWAY, e2)];
    const first = start(store, cookies);
    await first.deliver(created(e1, c1, 1, 1));
    store.failing = true;
    await first.deliver(created(e2, c2, 1, 2));
    expect(first.counters.get('storeFailures')).toBe(1);
    store.failing = false;
    await first.deliver(created(e2, c2, 1, 2));
    expect(store.getSide(`${EPOCH_SIDE_PREFIX}${GATEWAY}`)).toEqual(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 22, 0, 0, 0, 0, 0, 0, 0, 11]));
    const second = start(store.reopen(), cookies);
    await second.deliver(created(e1, c1, 2, 1));
    expect(second.counters.get('supersededEpoch')).toBe(1);
    expect(second.lines).toEqual([]);
  });

  it('starts the new epoch of a restarted gateway while it tracks as many gateways as it may', async () => {
    const cookies = new CookieJar(newCookieSecret());
    const receiver = start(new MemoryStore(), cookies, 1);
    await receiver.deliver(created(11n, cookies.cookieFor(GATEWAY, 11n), 1, 1));
    await receiver.deliver(created(22n, cookies.cookieFor(GATEWAY, 22n), 1, 2));
    expect(receiver.counters.get('peersFull')).toBe(0);
    expect(receiver.lines.filter((line) => line.startsWith('Initialized'))).toHaveLength(2);
    expect(receiver.sent).toEqual([MessageType.ACK, MessageType.ACK]);
  });
});
