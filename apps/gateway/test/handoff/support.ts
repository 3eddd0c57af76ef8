// A gateway with handoff on a FakeTun, and a fake receiver on the IPv4 side that speaks handoff v1
// with the real codec: it answers HELLO, acknowledges CREATED/DELETED (keeping the entries), answers
// QUERY from what it holds and sends RELEASE on request. Packets cross as real IPv4/UDP bytes, so the
// gateway's transport, engine hooks, tracker and miss queue are exercised exactly as on a device.

import {
  AnswerStatus,
  Capability,
  HANDOFF_PORT,
  HANDOFF_VERSION,
  MessageType,
  ReceiverFlag,
  datagram,
  type HandoffEntry,
  type HandoffMessage,
} from '@nat64/handoff-codec';
import { silentLogger } from '@nat64/service';
import { vi } from 'vitest';
import { ipv4TextToUint32 } from '@nat64/wire';
import { Handoff, type HandoffOptions } from '@nat64/gateway-handoff';
import { ipv4 } from '../../../../packages/gateway-engine/test/support/packets.js';
import { testGateway, type TestGateway } from '../support/gateway.js';
import type { RawSettings } from '../../src/config.js';

export const EPOCH = 0x0123456789abcdefn;
export const COOKIE = 0x8899aabbccddeeffn;
/** A fixed wall clock for entry times: 2019-03-18T10:06:28Z in µs. */
export const TIME = 1_552_903_588_000_000;

export interface Sent {
  natAddress: number;
  host: number;
  message: HandoffMessage;
}

export interface HandoffHarness {
  g: TestGateway;
  handoff: Handoff;
  /** Moves the clock and runs the agent's timers. */
  tick(ms?: number): void;
  /** Everything written since the last call: handoff datagrams decoded, the rest as packets. */
  take(): { handoff: Sent[]; packets: Uint8Array[] };
  /** Sends packets into the gateway; returns what it wrote except handoff datagrams, which wait in `outbox`. */
  send(...packets: Uint8Array[]): Uint8Array[];
  /** Handoff datagrams written and not yet given to a receiver. */
  outbox: Sent[];
}

export function v4(text: string): number {
  return ipv4TextToUint32(text);
}

/** `housekeepingMs` > 0 starts handoff's timer (on whatever timers the test runs, fake ones included). */
export function testHandoff(settings: RawSettings = {}, options: Partial<HandoffOptions> = {}, housekeepingMs = 0): HandoffHarness {
  // These tests speak handoff messages; the Geneve transport has its own (test/geneve/).
  const handoffSettings = typeof settings['handoff'] === 'object' && settings['handoff'] !== null ? (settings['handoff'] as RawSettings) : {};
  const g = testGateway({ logLevel: 'silent', ...settings, handoff: { transport: 'handoff', ...handoffSettings } });
  const config = g.config.handoff;
  const handoff = new Handoff(g, config, {
    logger: silentLogger(),
    epoch: EPOCH,
    wallMicros: () => TIME,
    tuning: { helloRetryMs: 100, initialRtoMs: 100, minRtoMs: 50 },
    ...options,
  });
  handoff.start(housekeepingMs);
  const outbox: Sent[] = [];
  return {
    g,
    handoff,
    outbox,
    send(...packets) {
      const written = split(g.send(...packets));
      outbox.push(...written.handoff);
      return written.packets;
    },
    tick(ms = 0) {
      g.advance(ms);
      g.engine.run(() => handoff.tick());
    },
    take() {
      const written = split(g.tun.takeWritten());
      written.handoff.unshift(...outbox.splice(0));
      return written;
    },
  };
}

/**
 * Lets `ms` pass on the gateway's clock and on vitest's fake timers together, `stepMs` at a time, so
 * that handoff's own timer fires at the time it reads from the clock.
 */
export function letTimePass(g: TestGateway, ms: number, stepMs = 1): void {
  for (let passed = 0; passed < ms; passed += stepMs) {
    g.advance(stepMs);
    vi.advanceTimersByTime(stepMs);
  }
}

/** Handoff datagrams decoded, and the other packets as they are. */
export function split(written: readonly Uint8Array[]): { handoff: Sent[]; packets: Uint8Array[] } {
  const out = { handoff: [] as Sent[], packets: [] as Uint8Array[] };
  for (const packet of written) {
    if (!isHandoffPacket(packet)) {
      out.packets.push(packet);
      continue;
    }
    const natAddress = readU32(packet, 12);
    const host = readU32(packet, 16);
    out.handoff.push({ natAddress, host, message: datagram.decode(packet, 28, packet.length - 28) });
  }
  return out;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function text4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** A copy of an entry the agent lent us. */
export function copyEntry(e: HandoffEntry): HandoffEntry {
  return { ...e, clientAddress: e.clientAddress.slice() };
}

/** The receiver on one host, for every NAT address that talks to it. */
export class FakeReceiver {
  authoritative = true;
  /** While false, datagrams are received and dropped (a receiver that went away). */
  answering = true;
  window = 64;
  /** Entries held, by "protocol/natAddress/natPort". */
  readonly held = new Map<string, HandoffEntry>();
  readonly log: string[] = [];
  /** Receive cumulative number per gateway epoch (section 6.3). */
  private readonly cumulative = new Map<bigint, number>();
  private releaseSequence = 0;

  constructor(readonly host: number) {}

  /** Replies (as IPv4 packets toward the gateway) to the datagrams addressed to this host. */
  answer(sent: readonly Sent[]): Uint8Array[] {
    const replies: Uint8Array[] = [];
    for (const { natAddress, host, message } of sent) {
      if (host !== this.host || !this.answering) continue;
      const reply = this.handle(natAddress, message);
      if (reply !== null) replies.push(this.packet(natAddress, reply));
    }
    return replies;
  }

  /** A RELEASE of these held keys, as a packet toward the gateway. */
  release(natAddress: number, keys: string[]): Uint8Array {
    const entries = keys.map((key) => this.held.get(key)!);
    for (const key of keys) this.held.delete(key);
    return this.packet(natAddress, {
      type: MessageType.RELEASE,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: EPOCH,
      cookie: COOKIE,
      sequence: ++this.releaseSequence,
      entries,
    });
  }

  private handle(natAddress: number, m: HandoffMessage): HandoffMessage | null {
    const header = { version: HANDOFF_VERSION, flags: 0, epoch: m.epoch, cookie: COOKIE };
    switch (m.type) {
      case MessageType.HELLO:
        if (m.cookie === COOKIE && !this.cumulative.has(m.epoch)) {
          this.cumulative.set(m.epoch, 0);
          this.log.push(`Initialized ${text4(natAddress)}`);
        }
        return {
          ...header,
          type: MessageType.HELLO_ACK,
          sequence: m.sequence,
          receiverFlags: this.authoritative ? ReceiverFlag.AUTHORITATIVE : 0,
          capabilities: Capability.HANDOFF_V1,
          window: this.window,
        };
      case MessageType.CREATED:
      case MessageType.DELETED:
        if (m.cookie !== COOKIE) return null;
        if (m.sequence === (this.cumulative.get(m.epoch) ?? 0) + 1) {
          this.cumulative.set(m.epoch, m.sequence);
          for (const e of m.entries) {
            const key = `${e.protocol}/${e.natAddress}/${e.natPort}`;
            if (m.type === MessageType.CREATED) {
              this.held.set(key, copyEntry(e));
              this.log.push(`Created ${text4(e.natAddress)}:${e.natPort} port ${e.clientPort}`);
            } else {
              this.held.delete(key);
              this.log.push(`Deleted ${text4(e.natAddress)}:${e.natPort} reason ${e.reason}`);
            }
          }
        }
        return { ...header, type: MessageType.ACK, sequence: 0, cumulative: this.cumulative.get(m.epoch) ?? 0, blocks: [] };
      case MessageType.QUERY: {
        const found = this.authoritative ? this.held.get(`${m.protocol}/${m.natAddress}/${m.natPort}`) : undefined;
        return {
          ...header,
          type: MessageType.ANSWER,
          sequence: m.sequence,
          status: found !== undefined ? AnswerStatus.FOUND : this.authoritative ? AnswerStatus.NOT_FOUND : AnswerStatus.NOT_AUTHORITATIVE,
          entry: found ?? null,
        };
      }
      case MessageType.CLIENT_QUERY: {
        const found = this.authoritative
          ? [...this.held.values()].find(
              (e) => e.protocol === m.protocol && e.natAddress === m.natAddress && e.clientPort === m.clientPort && sameBytes(e.clientAddress, m.clientAddress),
            )
          : undefined;
        return {
          ...header,
          type: MessageType.ANSWER,
          sequence: m.sequence,
          status: found !== undefined ? AnswerStatus.FOUND : this.authoritative ? AnswerStatus.NOT_FOUND : AnswerStatus.NOT_AUTHORITATIVE,
          entry: found ?? null,
        };
      }
      default:
        return null;
    }
  }

  private packet(natAddress: number, message: HandoffMessage): Uint8Array {
    const payload = new Uint8Array(datagram.encodingLength(message));
    datagram.encode(message, payload, 0);
    return ipv4({ src: text4(this.host), dst: text4(natAddress), protocol: 17, srcPort: HANDOFF_PORT, dstPort: HANDOFF_PORT, payload, dontFragment: true });
  }
}

/**
 * Lets the gateway and the receivers talk until neither has anything more to say (ticking the agent
 * past its flush delay each round); returns the other packets the gateway wrote meanwhile.
 */
export function converse(h: HandoffHarness, receivers: readonly FakeReceiver[], rounds = 20): Uint8Array[] {
  const others: Uint8Array[] = [];
  for (let round = 0; round < rounds; round++) {
    h.tick(10);
    const taken = h.take();
    others.push(...taken.packets);
    const replies = receivers.flatMap((r) => r.answer(taken.handoff));
    if (replies.length === 0 && taken.handoff.length === 0) return others;
    if (replies.length === 0) continue;
    others.push(...h.send(...replies));
  }
  throw new Error(`still talking after ${rounds} rounds`);
}

function isHandoffPacket(packet: Uint8Array): boolean {
  return packet[0] === 0x45 && packet[9] === 17 && ((packet[22]! << 8) | packet[23]!) === HANDOFF_PORT;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
