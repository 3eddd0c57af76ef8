// A simulated gateway: speaks handoff v1 to a receiver the way a NAT64 gateway does, from a UDP
// socket bound to its NAT address and port 62863. HELLO exchange, reliable CREATED/DELETED with a
// window and retransmission, QUERY, and acknowledgement of RELEASE. Used by the simulator CLI,
// the receiver's tests and the benchmarks.
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import {
  Capability,
  DecodeStatus,
  EntryBatchWriter,
  HANDOFF_PORT,
  HANDOFF_VERSION,
  MessageType,
  ReceiverFlag,
  Reliability,
  Size,
  datagram,
  inspectDatagram,
  maxDatagramLength,
  signDatagram,
  verifyDatagram,
  DatagramView,
  type Answer,
  type HandoffEntry,
  type HandoffMessage,
  type Release,
} from '@nat64/handoff-codec';
import { uint32ToIpv4Text } from '@nat64/wire';

export interface GatewayClientOptions {
  /** The receiver. */
  receiverAddress: string;
  receiverPort?: number;
  /** The NAT address this gateway speaks for; the socket binds to it. */
  natAddress: number;
  /** Local port; default 62863 as the protocol says, 0 for any. */
  localPort?: number;
  key?: Uint8Array;
  /** Default: random, as a real gateway picks at each start. */
  epoch?: bigint;
  /** Path MTU toward the receiver; batches fill datagrams up to it. */
  mtu?: number;
  /** Initial retransmission timeout, ms. */
  initialRtoMs?: number;
}

export interface HelloResult {
  cookie: bigint;
  authoritative: boolean;
  capabilities: number;
  window: number;
}

interface Outstanding {
  bytes: Buffer;
  firstSentAt: number;
  sentAt: number;
  rtoMs: number;
  retransmissions: number;
  resolve(latencyMs: number): void;
  reject(error: Error): void;
}

export class HandoffTimeoutError extends Error {
  override name = 'HandoffTimeoutError';
}

const MAX_RETRANSMISSIONS = 8;

export class GatewayClient {
  readonly epoch: bigint;
  cookie = 0n;
  window = 1;
  authoritative = false;
  private readonly socket: Socket;
  private readonly view = new DatagramView();
  private readonly writer: EntryBatchWriter;
  private nextSequence = 1;
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly waitingForWindow: Array<() => void> = [];
  private readonly requests = new Map<number, (message: HandoffMessage) => void>();
  private readonly timer: NodeJS.Timeout;
  /** RELEASEs received (entries the receiver ended), in arrival order. */
  readonly released: HandoffEntry[] = [];
  private releaseCumulative = 0;
  retransmissions = 0;

  private constructor(
    private readonly options: GatewayClientOptions,
    socket: Socket,
  ) {
    this.socket = socket;
    this.epoch = options.epoch ?? randomBytes(8).readBigUInt64BE(0);
    this.writer = new EntryBatchWriter({ maxLength: maxDatagramLength(options.mtu ?? 1500), ...(options.key ? { key: options.key } : {}) });
    socket.on('message', (bytes) => this.onMessage(bytes));
    this.timer = setInterval(() => this.retransmit(), 20);
    this.timer.unref();
  }

  static async open(options: GatewayClientOptions): Promise<GatewayClient> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
    const address = uint32ToIpv4Text(options.natAddress);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRNOTAVAIL'
            ? new Error(
                `cannot send from ${address}: it is not an address of this host (run where it is, e.g. in a namespace with it on lo, or choose another NAT address)`,
              )
            : error,
        ),
      );
      socket.bind({ address, port: options.localPort ?? HANDOFF_PORT, exclusive: true }, () => resolve());
    });
    socket.on('error', () => undefined);
    return new GatewayClient(options, socket);
  }

  get natAddress(): number {
    return this.options.natAddress;
  }

  /** Outstanding reliable messages. */
  get inFlight(): number {
    return this.outstanding.size;
  }

  /** HELLO without a cookie, then HELLO with the cookie learned, which starts the epoch at the receiver. */
  async hello(timeoutMs = 5000): Promise<HelloResult> {
    const first = await this.request((sequence) => this.helloMessage(sequence, 0n), MessageType.HELLO_ACK, timeoutMs);
    if (first.type !== MessageType.HELLO_ACK) throw new Error('unexpected reply to HELLO');
    this.cookie = first.cookie;
    this.window = Math.max(1, first.window);
    this.authoritative = (first.receiverFlags & ReceiverFlag.AUTHORITATIVE) !== 0;
    this.writer.setSession(this.epoch, this.cookie);
    const second = await this.request((sequence) => this.helloMessage(sequence, this.cookie), MessageType.HELLO_ACK, timeoutMs);
    if (second.type !== MessageType.HELLO_ACK || second.cookie !== this.cookie) throw new Error('the receiver changed its cookie during HELLO');
    return { cookie: this.cookie, authoritative: this.authoritative, capabilities: first.capabilities, window: this.window };
  }

  private helloMessage(sequence: number, cookie: bigint): HandoffMessage {
    return {
      type: MessageType.HELLO,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: this.epoch,
      cookie,
      sequence,
      natAddress: this.options.natAddress,
      capabilities: Capability.HANDOFF_V1,
    };
  }

  /**
   * Sends entries in CREATED or DELETED messages filled up to the MTU, each waiting for room in the
   * window; resolves with each message's ACK latency (ms) once all are acknowledged.
   */
  async send(type: typeof MessageType.CREATED | typeof MessageType.DELETED, entries: readonly HandoffEntry[]): Promise<number[]> {
    const acknowledgements: Promise<number>[] = [];
    let next = 0;
    while (next < entries.length) {
      while (this.outstanding.size >= this.window) await new Promise<void>((resolve) => this.waitingForWindow.push(resolve));
      const buffer = Buffer.alloc(maxDatagramLength(this.options.mtu ?? 1500));
      const sequence = this.nextSequence;
      this.nextSequence = (this.nextSequence + 1) >>> 0;
      this.writer.begin(buffer, 0, type, sequence);
      while (next < entries.length && this.writer.append(entries[next]!)) next++;
      const bytes = buffer.subarray(0, this.writer.finish());
      acknowledgements.push(
        new Promise<number>((resolve, reject) => {
          const now = performance.now();
          this.outstanding.set(sequence, {
            bytes,
            firstSentAt: now,
            sentAt: now,
            rtoMs: this.options.initialRtoMs ?? Reliability.INITIAL_RTO_MS,
            retransmissions: 0,
            resolve,
            reject,
          });
        }),
      );
      this.transmit(bytes);
    }
    return Promise.all(acknowledgements);
  }

  /** Asks who owns (protocol, this NAT address, port) as seen from a server. */
  async query(protocol: number, natPort: number, serverAddress = 0, serverPort = 0, timeoutMs = 2000): Promise<Answer> {
    const natAddress = this.options.natAddress;
    return this.ask(
      'QUERY',
      (sequence) => ({ type: MessageType.QUERY, ...this.header(sequence), protocol, natPort, natAddress, serverAddress, serverPort }),
      timeoutMs,
    );
  }

  /** Asks which NAT port of this address a client endpoint holds (CLIENT-QUERY, protocol section 5.12). */
  async clientQuery(protocol: number, clientAddress: Uint8Array, clientPort: number, serverAddress = 0, serverPort = 0, timeoutMs = 2000): Promise<Answer> {
    const natAddress = this.options.natAddress;
    const build = (sequence: number): HandoffMessage => ({
      type: MessageType.CLIENT_QUERY,
      ...this.header(sequence),
      protocol,
      natAddress,
      clientAddress,
      clientPort,
      serverAddress,
      serverPort,
    });
    return this.ask('CLIENT-QUERY', build, timeoutMs);
  }

  /** The common header fields of a message of the current epoch and cookie. */
  private header(sequence: number): { version: number; flags: number; epoch: bigint; cookie: bigint; sequence: number } {
    return { version: HANDOFF_VERSION, flags: 0, epoch: this.epoch, cookie: this.cookie, sequence };
  }

  /** Sends a QUERY or CLIENT-QUERY (`name`) and waits for its ANSWER. */
  private async ask(name: string, build: (sequence: number) => HandoffMessage, timeoutMs: number): Promise<Answer> {
    const reply = await this.request(build, MessageType.ANSWER, timeoutMs);
    if (reply.type !== MessageType.ANSWER) throw new Error(`unexpected reply to ${name}`);
    return reply;
  }

  /** Sends raw bytes to the receiver, as an attacker or a broken peer would. */
  sendRaw(bytes: Uint8Array): void {
    this.socket.send(bytes, this.options.receiverPort ?? HANDOFF_PORT, this.options.receiverAddress);
  }

  /** Encodes (and tags, with a key) one message. */
  encode(message: HandoffMessage): Buffer {
    const length = datagram.encodingLength(message);
    const bytes = Buffer.alloc(length + (this.options.key ? Size.TAG : 0));
    datagram.encode(message, bytes, 0);
    if (this.options.key) signDatagram(bytes, 0, length, this.options.key);
    return bytes;
  }

  private async request(build: (sequence: number) => HandoffMessage, replyType: number, timeoutMs: number): Promise<HandoffMessage> {
    const deadline = Date.now() + timeoutMs;
    let rto = this.options.initialRtoMs ?? Reliability.INITIAL_RTO_MS;
    for (;;) {
      const sequence = randomBytes(4).readUInt32BE(0);
      const reply = new Promise<HandoffMessage | undefined>((resolve) => {
        const timer = setTimeout(
          () => {
            this.requests.delete(sequence);
            resolve(undefined);
          },
          Math.min(rto, Math.max(1, deadline - Date.now())),
        );
        this.requests.set(sequence, (message) => {
          clearTimeout(timer);
          this.requests.delete(sequence);
          resolve(message);
        });
      });
      this.transmit(this.encode(build(sequence)));
      const message = await reply;
      if (message && message.type === replyType) return message;
      if (Date.now() >= deadline)
        throw new HandoffTimeoutError(
          `no ${replyType === MessageType.ANSWER ? 'ANSWER' : 'HELLO-ACK'} from ${this.options.receiverAddress} within ${timeoutMs} ms`,
        );
      rto = Math.min(rto * 2, Reliability.MAX_RTO_MS);
    }
  }

  private transmit(bytes: Uint8Array): void {
    this.socket.send(bytes, this.options.receiverPort ?? HANDOFF_PORT, this.options.receiverAddress);
  }

  private onMessage(bytes: Buffer): void {
    const view = this.view;
    if (inspectDatagram(bytes, 0, bytes.length, view) !== DecodeStatus.OK) return;
    if (this.options.key ? !verifyDatagram(bytes, 0, bytes.length, this.options.key) : view.tagged) return;
    if (view.epoch() !== this.epoch) return;
    const message = datagram.decode(bytes, 0, bytes.length);
    switch (message.type) {
      case MessageType.HELLO_ACK:
      case MessageType.ANSWER:
        this.requests.get(message.sequence)?.(message);
        return;
      case MessageType.ACK:
        if (message.cookie !== this.cookie) return;
        this.onAck(message.cumulative, message.blocks);
        return;
      case MessageType.RELEASE:
        if (message.cookie !== this.cookie) return;
        this.onRelease(message);
    }
  }

  private onAck(cumulative: number, blocks: ReadonlyArray<{ start: number; end: number }>): void {
    const now = performance.now();
    for (const [sequence, message] of this.outstanding) {
      const covered = ((cumulative - sequence) | 0) >= 0 || blocks.some((block) => ((sequence - block.start) | 0) >= 0 && ((block.end - sequence) | 0) >= 0);
      if (!covered) continue;
      this.outstanding.delete(sequence);
      message.resolve(now - message.firstSentAt);
    }
    while (this.waitingForWindow.length > 0 && this.outstanding.size < this.window) this.waitingForWindow.shift()!();
  }

  private onRelease(message: Release): void {
    if (((message.sequence - this.releaseCumulative) | 0) === 1) {
      this.releaseCumulative = message.sequence;
      this.released.push(...message.entries);
    }
    this.transmit(
      this.encode({
        type: MessageType.ACK,
        version: HANDOFF_VERSION,
        flags: 0,
        epoch: this.epoch,
        cookie: this.cookie,
        sequence: 0,
        cumulative: this.releaseCumulative,
        blocks: [],
      }),
    );
  }

  private retransmit(): void {
    const now = performance.now();
    for (const [sequence, message] of this.outstanding) {
      if (now < message.sentAt + message.rtoMs) continue;
      if (message.retransmissions >= MAX_RETRANSMISSIONS) {
        this.outstanding.delete(sequence);
        message.reject(new HandoffTimeoutError(`message ${sequence} unacknowledged after ${MAX_RETRANSMISSIONS} retransmissions`));
        continue;
      }
      message.retransmissions++;
      message.sentAt = now;
      message.rtoMs = Math.min(message.rtoMs * 2, Reliability.MAX_RTO_MS);
      this.retransmissions++;
      this.transmit(message.bytes);
    }
  }

  private closing: Promise<void> | undefined;

  /** Stops retransmitting and closes the socket; idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    clearInterval(this.timer);
    for (const message of this.outstanding.values()) message.reject(new Error('gateway client closed'));
    this.outstanding.clear();
    this.closing = new Promise((resolve) => this.socket.close(() => resolve()));
    return this.closing;
  }
}
