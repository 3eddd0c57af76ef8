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
        const generator = entryGenerator(gateway.natAddress, options, index);
        const pending: Promise<number[]>[] = [];
        const share = options.rate / gateways.length;
        const chunkSize = options.rate > 0 ? Math.max(1, Math.round((share * PACING_MS) / 1000)) : SATURATION_CHUNK;
        for (let sent = 0; sent < total; sent += chunkSize) {
          const chunk = Array.from({ length: Math.min(chunkSize, total - sent) }, () => generator.next().value as HandoffEntry);
          if (options.rate > 0) await pace(start, sent, share);
          pending.push(gateway.send(MessageType.CREATED, chunk));
          // At saturation keep a few chunks in flight so the window stays full while the next is built.
          if (options.rate === 0 && pending.length >= 4) record(await pending.shift()!);
          else if (pending.length >= 4096) record(await pending.shift()!);
        }
        for (const chunk of pending) record(await chunk);
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

function* entryGenerator(natAddress: number, options: LoadOptions, seed: number): Generator<HandoffEntry> {
  let port = 1024;
  let client = seed;
  const used: number[] = [];
  for (;;) {
    const reusing = used.length > 0 && Math.random() < options.reuse;
    const natPort = reusing ? used[Math.floor(Math.random() * used.length)]! : port;
    if (!reusing) {
      used.push(port);
      if (used.length > 4096) used.shift();
      port = port >= 65535 ? 1024 : port + 1;
    }
    client = (client + 1) % Math.max(1, options.clients);
    const clientAddress = new Uint8Array(16);
    clientAddress.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0]);
    new DataView(clientAddress.buffer).setUint32(12, client);
    yield {
      protocol: Protocol.TCP,
      reason: 0,
      natAddress,
      natPort,
      clientAddress,
      clientPort: 32768 + (client % 28000),
      serverAddress: options.serverAddress,
      serverPort: 443,
      time: Date.now() * 1000,
    };
  }
}
