// An agent on a hand-moved clock whose send() decodes every datagram with the codec, and a scripted
// receiver that answers it with messages built by the codec. Tests run hours of timers in
// microseconds of real time.
import {
  AnswerStatus,
  Capability,
  HANDOFF_PORT,
  HANDOFF_VERSION,
  MessageType,
  ReceiverFlag,
  Size,
  datagram,
  signDatagram,
  type AckBlock,
  type HandoffEntry,
  type HandoffMessage,
} from '@nat64/handoff-codec';
import { HandoffAgent, type AckedEntries, type HandoffAgentOptions, type PeerState, type QueryOutcome } from '@nat64/handoff-agent';
import { COOKIE, EPOCH, HOST, NAT } from './entries.js';

export interface Sent {
  natAddress: number;
  host: number;
  bytes: Uint8Array;
  message: HandoffMessage;
  at: number;
}

export interface Recorded {
  up: Array<{ natAddress: number; host: number; state: PeerState }>;
  down: Array<{ natAddress: number; host: number; state: PeerState }>;
  handedOff: Array<{ natAddress: number; host: number; entries: HandoffEntry[]; refs: number[] }>;
  released: Array<{ natAddress: number; host: number; entries: HandoffEntry[] }>;
  answers: Array<{ token: number; outcome: QueryOutcome; entry: HandoffEntry | null }>;
}

function copyEntry(entry: HandoffEntry): HandoffEntry {
  return { ...entry, clientAddress: entry.clientAddress.slice() };
}

export class Harness {
  now = 1_000_000;
  /** Datagrams sent and not yet taken. */
  readonly sent: Sent[] = [];
  /** Every datagram sent. */
  readonly log: Sent[] = [];
  readonly events: Recorded = { up: [], down: [], handedOff: [], released: [], answers: [] };
  readonly agent: HandoffAgent;
  /** The object the last onHandedOff was given, kept past the call. */
  lastAcked: AckedEntries | null = null;
  /** Called from onPeerUp, e.g. to re-announce mappings. */
  onUp: ((natAddress: number, host: number, state: PeerState) => void) | undefined;

  constructor(options: Partial<HandoffAgentOptions> = {}) {
    this.agent = new HandoffAgent({
      mode: 'full',
      epoch: EPOCH,
      clock: () => this.now,
      send: (natAddress, host, payload) => {
        const sent = { natAddress, host, bytes: payload.slice(), message: datagram.decode(payload), at: this.now };
        this.sent.push(sent);
        this.log.push(sent);
      },
      events: {
        onPeerUp: (natAddress, host, state) => {
          this.events.up.push({ natAddress, host, state });
          this.onUp?.(natAddress, host, state);
        },
        onPeerDown: (natAddress, host, state) => this.events.down.push({ natAddress, host, state }),
        onHandedOff: (natAddress, host, acked) => {
          this.lastAcked = acked;
          const entries = Array.from({ length: acked.count }, (_, i) => copyEntry(acked.entry(i)));
          this.events.handedOff.push({ natAddress, host, entries, refs: Array.from({ length: acked.count }, (_, i) => acked.ref(i)) });
        },
        onRelease: (natAddress, host, entries) => this.events.released.push({ natAddress, host, entries: entries.map(copyEntry) }),
        onAnswer: (token, outcome, entry) => this.events.answers.push({ token, outcome, entry: entry === null ? null : copyEntry(entry) }),
      },
      ...options,
    });
  }

  /** Datagrams sent since the last take(), removed from the record. */
  take(): Sent[] {
    return this.sent.splice(0);
  }

  /** Sent datagrams of one type since the last take(), leaving the others. */
  takeType(type: number): Sent[] {
    const taken = this.sent.filter((sent) => sent.message.type === type);
    const rest = this.sent.filter((sent) => sent.message.type !== type);
    this.sent.length = 0;
    this.sent.push(...rest);
    return taken;
  }

  /** Moves the clock to `at` and ticks. */
  tickAt(at: number): void {
    this.now = at;
    this.agent.tick();
  }

  /** Moves the clock forward `ms` in steps of `step`, ticking after each. */
  advance(ms: number, step = ms): void {
    const end = this.now + ms;
    while (this.now < end) this.tickAt(Math.min(end, this.now + step));
  }
}

/** Encodes a message as a receiver would send it, tagged with `key` if given. */
export function encode(message: HandoffMessage, key?: Uint8Array): Uint8Array {
  const length = datagram.encodingLength(message);
  const bytes = new Uint8Array(length + (key ? Size.TAG : 0));
  datagram.encode(message, bytes, 0);
  if (key) signDatagram(bytes, 0, length, key);
  return bytes;
}

export interface ReceiverScript {
  cookie: bigint;
  window: number;
  authoritative: boolean;
  key?: Uint8Array;
  epoch?: bigint;
}

/** A receiver on HOST for NAT played by the test: it builds replies and delivers them to the agent. */
export class ScriptedReceiver {
  script: ReceiverScript;
  releaseNext = 1;

  constructor(
    private readonly harness: Harness,
    readonly natAddress = NAT,
    readonly host = HOST,
    script: Partial<ReceiverScript> = {},
  ) {
    this.script = { cookie: COOKIE, window: 256, authoritative: true, ...script };
  }

  deliver(bytes: Uint8Array, port = HANDOFF_PORT): void {
    this.harness.agent.receive(this.natAddress, this.host, port, bytes);
  }

  private header(sequence: number) {
    return { version: HANDOFF_VERSION, flags: 0, epoch: this.script.epoch ?? EPOCH, cookie: this.script.cookie, sequence };
  }

  helloAckBytes(sequence: number, overrides: Partial<ReceiverScript> = {}): Uint8Array {
    const script = { ...this.script, ...overrides };
    return encode(
      {
        type: MessageType.HELLO_ACK,
        version: HANDOFF_VERSION,
        flags: 0,
        epoch: script.epoch ?? EPOCH,
        cookie: script.cookie,
        sequence,
        receiverFlags: script.authoritative ? ReceiverFlag.AUTHORITATIVE : 0,
        capabilities: Capability.HANDOFF_V1,
        window: script.window,
      },
      script.key,
    );
  }

  /** Answers the newest HELLO the agent sent toward this host. */
  answerHello(overrides: Partial<ReceiverScript> = {}): void {
    const hellos = this.harness.log.filter((sent) => sent.message.type === MessageType.HELLO && sent.host === this.host && sent.natAddress === this.natAddress);
    const last = hellos.at(-1);
    if (!last) throw new Error('no HELLO to answer');
    this.deliver(this.helloAckBytes(last.message.sequence, overrides));
  }

  ackBytes(cumulative: number, blocks: AckBlock[] = []): Uint8Array {
    return encode({ type: MessageType.ACK, ...this.header(0), cumulative, blocks }, this.script.key);
  }

  ack(cumulative: number, blocks: AckBlock[] = []): void {
    this.deliver(this.ackBytes(cumulative, blocks));
  }

  releaseBytes(sequence: number, entries: HandoffEntry[]): Uint8Array {
    return encode({ type: MessageType.RELEASE, ...this.header(sequence), entries }, this.script.key);
  }

  /** Sends the next RELEASE of the receiver's own sequence. */
  release(entries: HandoffEntry[]): number {
    const sequence = this.releaseNext++;
    this.deliver(this.releaseBytes(sequence, entries));
    return sequence;
  }

  answerBytes(sequence: number, status: number, entry: HandoffEntry | null): Uint8Array {
    return encode({ type: MessageType.ANSWER, ...this.header(sequence), status, entry }, this.script.key);
  }

  answer(sequence: number, status: number = AnswerStatus.NOT_FOUND, entry: HandoffEntry | null = null): void {
    this.deliver(this.answerBytes(sequence, status, entry));
  }
}
