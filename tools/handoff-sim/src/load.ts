// Load mode: CREATED entries as fast as the receiver acknowledges them (or at a set rate), from
// one or more simulated gateways, with a share of NAT ports reused by another client. Reports
// durable entries per second and the ACK latency distribution.
import { MessageType, Protocol, type HandoffEntry } from '@nat64/handoff-codec';
import { GatewayClient, type GatewayClientOptions } from './gateway-client.js';

export interface LoadOptions extends Omit<GatewayClientOptions, 'natAddress'> {
  /** One simulated gateway per NAT address, run in parallel. */
  gateways: number[];
  /** Entries in all. */
  count: number;
  /** Entries per second in all; 0 sends as fast as acknowledgements allow. */
  rate: number;
  /** Distinct IPv6 clients. */
  clients: number;
  /** Share (0..1) of entries that reuse a NAT port already given to another client. */
  reuse: number;
  serverAddress: number;
}

export interface LoadReport {
  entries: number;
  messages: number;
  seconds: number;
  entriesPerSecond: number;
  messagesPerSecond: number;
  ackLatencyMs: { p50: number; p90: number; p99: number; max: number };
  retransmissions: number;
}

/** At saturation, entries are generated in chunks of this many and handed to the client together. */
const SATURATION_CHUNK = 2000;
/** At a set rate, chunks are paced every this many milliseconds, so latency is not a burst artefact. */
const PACING_MS = 2;

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const gateways = await Promise.all(options.gateways.map((natAddress) => GatewayClient.open({ ...options, natAddress })));
  try {
    await Promise.all(gateways.map((gateway) => gateway.hello()));
    const latencies: number[] = [];
    let messages = 0;
    const perGateway = Math.ceil(options.count / gateways.length);
    const start = performance.now();
    await Promise.all(
      gateways.map(async (gateway, index) => {
        const total = Math.min(perGateway, options.count - index * perGateway);
        const source = new EntrySource(gateway.natAddress, options, index);
        // Each chunk is recorded and handed back to the source as soon as it is acknowledged, so that
        // paced chunks are reused too.
        const pending: Promise<void>[] = [];
        const share = options.rate / gateways.length;
        const chunkSize = options.rate > 0 ? Math.max(1, Math.round((share * PACING_MS) / 1000)) : SATURATION_CHUNK;
        for (let sent = 0; sent < total; sent += chunkSize) {
          const chunk = source.next(Math.min(chunkSize, total - sent));
          if (options.rate > 0) await pace(start, sent, share);
          pending.push(
            gateway.send(MessageType.CREATED, chunk).then((chunkLatencies) => {
              record(chunkLatencies);
              source.release(chunk);
            }),
          );
          // At saturation keep a few chunks in flight so the window stays full while the next is built.
          if (pending.length >= (options.rate === 0 ? 4 : 4096)) await pending.shift();
        }
        await Promise.all(pending);
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.floor(share * latencies.length))] ?? 0;
    return {
      entries: options.count,
      messages,
      seconds,
      entriesPerSecond: options.count / seconds,
      messagesPerSecond: messages / seconds,
      ackLatencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) ?? 0 },
      retransmissions: gateways.reduce((sum, gateway) => sum + gateway.retransmissions, 0),
    };

    function record(chunkLatencies: number[]): void {
      messages += chunkLatencies.length;
      for (const latency of chunkLatencies) latencies.push(latency);
    }
  } finally {
    await Promise.all(gateways.map((gateway) => gateway.close()));
  }
}

function pace(start: number, sent: number, rate: number): Promise<void> {
  const due = start + (sent / rate) * 1000;
  const wait = due - performance.now();
  return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
}

/** NAT keys a reusing entry picks from: the most recent this many new ones. */
const REUSE_POOL = 4096;
/**
 * The protocols whose NAT ports a gateway's new entries walk, every port from FIRST_PORT of one and
 * then of the next, before any key comes round again: with one protocol the walk came round after
 * 64,512 entries per gateway, and from there every create replaced an open entry, not the share asked.
 */
const WALKED_PROTOCOLS = [Protocol.TCP, Protocol.UDP];
const FIRST_PORT = 1024;
const PORTS_PER_PROTOCOL = 0x1_0000 - FIRST_PORT;
const WALKED_KEYS = WALKED_PROTOCOLS.length * PORTS_PER_PROTOCOL;

/**
 * One simulated gateway's CREATED entries: new NAT keys in turn (WALKED_PROTOCOLS), or (a `reuse`
 * share) a recent key again for another client, clients in turn. Entries are written into chunks that are
 * handed back once their send has settled and then filled again, so that the generator costs the
 * receiver it shares the machine with no garbage per entry.
 */
export class EntrySource {
  /** The next new key: WALKED_PROTOCOLS[key / PORTS_PER_PROTOCOL], port FIRST_PORT + key % PORTS_PER_PROTOCOL. */
  private key = 0;
  private client: number;
  private readonly recentKeys = new Uint32Array(REUSE_POOL);
  private recentCount = 0;
  private recentNext = 0;
  private lastTime = 0;
  /** By key: 1 + the client it was last given to (0: none yet). */
  private readonly holders = new Uint32Array(WALKED_KEYS);
  private readonly free: HandoffEntry[][] = [];

  constructor(
    private readonly natAddress: number,
    private readonly options: Pick<LoadOptions, 'clients' | 'reuse' | 'serverAddress'>,
    seed: number,
  ) {
    this.client = seed;
  }

  /** A chunk of `size` new entries (a released one filled again, when one of that size is free). */
  next(size: number): HandoffEntry[] {
    const chunk = this.free.at(-1)?.length === size ? this.free.pop()! : Array.from({ length: size }, () => this.blankEntry());
    const now = Date.now() * 1000;
    for (const entry of chunk) {
      // Strictly increasing, as a gateway's creation times are: an entry that reuses a port within
      // the same microsecond would be the incarnation it replaces, sent again, not a new one.
      this.lastTime = Math.max(now, this.lastTime + 1);
      this.fill(entry, this.lastTime);
    }
    return chunk;
  }

  /** The chunk's send has settled: its entries may be filled again. */
  release(chunk: HandoffEntry[]): void {
    this.free.push(chunk);
  }

  private fill(entry: HandoffEntry, time: number): void {
    const { clients, reuse } = this.options;
    this.client = (this.client + 1) % Math.max(1, clients);
    const client = this.client;
    const reused = this.recentCount > 0 && Math.random() < reuse ? this.recentKeys[Math.floor(Math.random() * this.recentCount)]! : -1;
    // A key its holder gets again would be the same connection, not one that replaces another.
    let key = reused;
    if (reused < 0 || this.holders[reused] === client + 1) {
      if (this.holders[this.key] === client + 1) this.advanceKey();
      key = this.key;
      this.recentKeys[this.recentNext] = key;
      this.recentNext = (this.recentNext + 1) % REUSE_POOL;
      this.recentCount = Math.min(this.recentCount + 1, REUSE_POOL);
      this.advanceKey();
    }
    this.holders[key] = client + 1;
    entry.protocol = WALKED_PROTOCOLS[Math.floor(key / PORTS_PER_PROTOCOL)]!;
    entry.natPort = FIRST_PORT + (key % PORTS_PER_PROTOCOL);
    const address = entry.clientAddress;
    address[12] = client >>> 24;
    address[13] = (client >>> 16) & 0xff;
    address[14] = (client >>> 8) & 0xff;
    address[15] = client & 0xff;
    entry.clientPort = 32768 + (client % 28000);
    entry.time = time;
  }

  private advanceKey(): void {
    this.key = (this.key + 1) % WALKED_KEYS;
  }

  private blankEntry(): HandoffEntry {
    const clientAddress = new Uint8Array(16);
    clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
    return {
      protocol: Protocol.TCP,
      reason: 0,
      natAddress: this.natAddress,
      natPort: 0,
      clientAddress,
      clientPort: 0,
      serverAddress: this.options.serverAddress,
      serverPort: 443,
      time: 0,
    };
  }
}
