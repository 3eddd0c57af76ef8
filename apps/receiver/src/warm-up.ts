// Warm-up: before the receiver opens its sockets, it runs its own hot paths on made-up traffic, so
// that the first real datagrams meet code V8 has compiled. Those come in a burst after a start: every
// gateway announces its live mappings again. A fresh receiver spends its first quarter second in the
// interpreter, and its ACKs then wait 100 ms and more (docs/BENCHMARKS.md, issue 15 §2).
//
// One made-up gateway (192.0.2.1, documentation range) says HELLO, then sends CREATED entries
// (some of them replacing an earlier entry's NAT port, as a reused port does) and DELETED ones, through
// Receiver.handleDatagram as a socket would, into a scratch engine: its own SQLite store in the
// store's worker and its own connection log, both in a temporary directory removed afterwards. The
// real store, log and sockets are never touched. A warm-up that fails or stalls is logged and the
// start goes on: it only costs speed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, type ConnStore } from '@nat64/conntrack';
import { Capability, HANDOFF_PORT, HANDOFF_VERSION, MessageType, datagram, type HandoffEntry, type HandoffMessage } from '@nat64/handoff-codec';
import { buildReceiver, RECEIVER_COUNTERS, type BuiltReceiver, type ConnectionLog } from '@nat64/handoff-receiver';
import { Counters, silentLogger, systemMicroClock, type Logger } from '@nat64/service';
import { openConnectionLog } from './log-file.js';

/** The made-up gateway: its address (192.0.2.1) as text and as a number. */
const GATEWAY = '192.0.2.1';
const GATEWAY_NUMBER = 0xc000_0201;
/** Entries per CREATED or DELETED datagram, as a gateway's full datagrams carry about. */
const ENTRIES_PER_DATAGRAM = 24;
/** Every REUSE-th entry takes the NAT port of an earlier one, which the receiver ends first. */
const REUSE = 20;
/** Entries deleted at the end, per 100 created. */
const DELETED_PERCENT = 10;
/** The warm-up gives up past this, whatever is left (a slow disk, say). */
const DEADLINE_MS = 5000;

export interface WarmUpResult {
  /** Entries the scratch engine acknowledged. */
  entries: number;
  ms: number;
}

/** Runs `entries` entries through a scratch engine (file comment); resolves when it is gone again. */
export async function warmUp(entries: number, ackDelayMs: number, logger: Logger): Promise<WarmUpResult> {
  const started = performance.now();
  let dir: string | undefined;
  let store: ConnStore | undefined;
  let log: ConnectionLog | undefined;
  let built: BuiltReceiver | undefined;
  const replies: Uint8Array[] = [];
  try {
    dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-warm-up-'));
    store = await SqliteStore.openInWorker(join(dir, 'warm-up.db'), { durability: 'normal' });
    log = openConnectionLog({ file: join(dir, 'warm-up.log') }, 'utc');
    built = buildReceiver({
      store,
      log,
      clock: systemMicroClock(),
      logger: silentLogger(),
      counters: new Counters(RECEIVER_COUNTERS),
      capacity: entries + 1,
      idleTimeoutMs: 0,
      ackDelayMs,
      send: (bytes) => replies.push(Uint8Array.from(bytes)),
      options: {
        authoritative: true,
        allows: () => true,
        keyFor: () => undefined,
        maxPeers: 1,
        capabilities: () => Capability.HANDOFF_V1,
      },
    });
    const acknowledged = await new MadeUpGateway(built, replies, started + DEADLINE_MS).run(entries);
    return { entries: acknowledged, ms: performance.now() - started };
  } catch (error) {
    logger.warn({ err: error }, 'warm-up failed; starting without it');
    return { entries: 0, ms: performance.now() - started };
  } finally {
    try {
      // Once built, the table owns the store and closes it after its queued commits.
      if (built) await built.table.closeAsync();
      else store?.close();
      log?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      logger.warn({ err: error, dir }, 'could not clear the warm-up away');
    }
  }
}

/** The gateway side of the warm-up: HELLO, then reliable CREATED and DELETED within the receiver's window. */
class MadeUpGateway {
  private readonly epoch = 0x5741_524d_5550_0001n;
  private cookie = 0n;
  private window = 1;
  private nextSequence = 1;
  /** Every message up to this one is acknowledged. */
  private cumulative = 0;
  private readonly buffer = new Uint8Array(4096);

  constructor(
    private readonly built: BuiltReceiver,
    private readonly replies: Uint8Array[],
    private readonly deadline: number,
  ) {}

  /** Sends `count` CREATED entries, then deletes some; resolves with the CREATED entries acknowledged. */
  async run(count: number): Promise<number> {
    this.deliver({ type: MessageType.HELLO, ...this.header(0), natAddress: GATEWAY_NUMBER, capabilities: Capability.HANDOFF_V1 });
    if (!(await this.until(() => this.cookie !== 0n))) return 0;
    const time = Date.now() * 1000;
    const created: HandoffEntry[] = [];
    for (let i = 0; i < count; i++) created.push(madeUpEntry(i, time));
    await this.send(MessageType.CREATED, created);
    // The CREATED messages are the first, full but for the last: those acknowledged hold these entries.
    const acknowledged = Math.min(count, this.cumulative * ENTRIES_PER_DATAGRAM);
    // Neither a reused port's entry (i % REUSE 0) nor the one it replaced (1).
    await this.send(
      MessageType.DELETED,
      created.filter((_, i) => i % 100 >= 2 && i % 100 < 2 + DELETED_PERCENT),
    );
    return acknowledged;
  }

  /** Sends `entries` in messages within the window, then waits until all are acknowledged. */
  private async send(type: typeof MessageType.CREATED | typeof MessageType.DELETED, entries: readonly HandoffEntry[]): Promise<void> {
    for (let at = 0; at < entries.length; at += ENTRIES_PER_DATAGRAM) {
      if (!(await this.until(() => this.nextSequence - this.cumulative <= this.window))) return;
      const header = this.header(this.nextSequence++);
      const batch = entries.slice(at, at + ENTRIES_PER_DATAGRAM);
      // Alike but for the type each branch narrows `type` to, which the message union needs.
      this.deliver(type === MessageType.CREATED ? { type, ...header, entries: batch } : { type, ...header, entries: batch });
    }
    await this.until(() => this.cumulative === this.nextSequence - 1);
  }

  /** One datagram to the scratch engine, in a buffer of its own (the engine keeps it). */
  private deliver(message: HandoffMessage): void {
    const length = datagram.encode(message, this.buffer, 0);
    this.built.receiver.handleDatagram(Buffer.from(this.buffer.subarray(0, length)), GATEWAY, HANDOFF_PORT);
  }

  /** Takes the engine's replies: the HELLO-ACK's cookie and window, and ACKs. */
  private read(): void {
    for (const bytes of this.replies.splice(0)) {
      const message = datagram.decode(bytes, 0);
      if (message.type === MessageType.HELLO_ACK) {
        this.cookie = message.cookie;
        this.window = Math.max(1, message.window);
      } else if (message.type === MessageType.ACK) {
        this.cumulative = Math.max(this.cumulative, message.cumulative);
      }
    }
  }

  /** Takes the replies until `done` holds, letting the engine commit and reply in between; false past the deadline. */
  private async until(done: () => boolean): Promise<boolean> {
    for (;;) {
      this.read();
      if (done()) return true;
      if (performance.now() >= this.deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  private header(sequence: number): { version: number; flags: number; epoch: bigint; cookie: bigint; sequence: number } {
    return { version: HANDOFF_VERSION, flags: 0, epoch: this.epoch, cookie: this.cookie, sequence };
  }
}

/** Entry `i` of the made-up gateway: a client of 2001:db8::/96 toward a server of 198.51.100.0/24. */
function madeUpEntry(i: number, time: number): HandoffEntry {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[12] = (i >>> 24) & 0xff;
  clientAddress[13] = (i >>> 16) & 0xff;
  clientAddress[14] = (i >>> 8) & 0xff;
  clientAddress[15] = i & 0xff;
  // A reused port: that of entry i - REUSE + 1, whose client gives way to this one.
  const portIndex = i % REUSE === 0 && i >= REUSE ? i - REUSE + 1 : i;
  return {
    protocol: portIndex % 3 === 0 ? 17 : 6,
    reason: 0,
    natAddress: GATEWAY_NUMBER,
    natPort: 1024 + (portIndex % 64_000),
    clientAddress,
    clientPort: 1024 + (i % 60_000),
    serverAddress: 0xc633_6400 + 1 + (i % 250),
    serverPort: i % 3 === 0 ? 53 : 443,
    time: time + i,
  };
}
