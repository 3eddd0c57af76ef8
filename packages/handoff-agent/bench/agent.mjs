// Throughput and garbage of the agent's mapping path, without sockets: `pnpm --filter
// @nat64/handoff-agent build && node packages/handoff-agent/bench/agent.mjs`. Mappings go through
// mappingCreated, a flush per "packet batch" of 64, and a synthetic receiver that acknowledges every
// CREATED at once (so every entry is also read back for onHandedOff). Prints mappings per second and
// garbage collections per million mappings; asserts nothing.
import { PerformanceObserver } from 'node:perf_hooks';
import { Capability, HANDOFF_VERSION, MessageType, ReceiverFlag, Size, datagram, signDatagram } from '@nat64/handoff-codec';
import { HandoffAgent } from '../dist/index.js';

const MAPPINGS = Number(process.env.BENCH_MAPPINGS ?? 2_000_000);
const BATCH = 64;
const NAT = 0xc0000201;
const EPOCH = 0x0123456789abcdefn;
const COOKIE = 0x8899aabbccddeeffn;
const KEY = new Uint8Array(32).fill(9);

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

function encode(message, key) {
  const length = datagram.encodingLength(message);
  const bytes = new Uint8Array(length + (key ? Size.TAG : 0));
  datagram.encode(message, bytes, 0);
  if (key) signDatagram(bytes, 0, length, key);
  return bytes;
}

async function run(name, { hosts, key }) {
  let now = 0;
  // Newest CREATED sequence per host index (-1: nothing to acknowledge); no garbage of the bench's own.
  const lastSequence = new Float64Array(hosts).fill(-1);
  const HOST_BASE = 0xc6336400;
  const helloIds = new Map();
  let handedOff = 0;
  const agent = new HandoffAgent({
    mode: 'full',
    epoch: EPOCH,
    clock: () => now,
    flushDelayMs: 0,
    maxWindow: 1024,
    helloTotal: { perSecond: 1e6, burst: 1e6 },
    ...(key ? { key } : {}),
    send(_natAddress, host, payload) {
      const type = payload[1];
      const sequence = ((payload[24] << 24) | (payload[25] << 16) | (payload[26] << 8) | payload[27]) >>> 0;
      if (type === MessageType.HELLO && !helloIds.has(host)) helloIds.set(host, sequence);
      else if (type === MessageType.CREATED) lastSequence[host - HOST_BASE] = sequence;
    },
    events: { onHandedOff: (_nat, _host, entries) => (handedOff += entries.length) },
  });
  const entry = {
    protocol: 6,
    reason: 0,
    natAddress: NAT,
    natPort: 0,
    clientAddress: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    clientPort: 50000,
    serverAddress: 0,
    serverPort: 443,
    time: 1_552_903_588_000_000,
  };
  const hostList = Array.from({ length: hosts }, (_, i) => HOST_BASE + i);
  for (const host of hostList) {
    entry.serverAddress = host;
    agent.mappingCreated(NAT, host, entry);
    const ack = {
      type: MessageType.HELLO_ACK,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: EPOCH,
      cookie: COOKIE,
      sequence: helloIds.get(host),
      receiverFlags: ReceiverFlag.AUTHORITATIVE,
      capabilities: Capability.HANDOFF_V1,
      window: 1024,
    };
    agent.receive(NAT, host, 62863, encode(ack, key));
  }
  // One ACK datagram per host, its Cumulative rewritten in place (and re-tagged when keyed).
  const acks = hostList.map(() =>
    encode({ type: MessageType.ACK, version: HANDOFF_VERSION, flags: 0, epoch: EPOCH, cookie: COOKIE, sequence: 0, cumulative: 0, blocks: [] }, key),
  );
  function acknowledge() {
    for (let index = 0; index < hosts; index++) {
      const sequence = lastSequence[index];
      if (sequence < 0) continue;
      lastSequence[index] = -1;
      const ack = acks[index];
      if (key) {
        // Untag, patch, tag again: what a receiver pays per ACK.
        ack[2] = 0;
        ack[3] = 36;
        ack[4] &= 0x7f;
      }
      ack[28] = sequence >>> 24;
      ack[29] = sequence >>> 16;
      ack[30] = sequence >>> 8;
      ack[31] = sequence;
      if (key) signDatagram(ack, 0, 36, key);
      agent.receive(NAT, hostList[index], 62863, ack);
    }
  }

  const loop = (count) => {
    for (let i = 0; i < count; i++) {
      const host = hostList[i % hosts];
      entry.natPort = i & 0xffff;
      entry.serverAddress = host;
      entry.time++;
      agent.mappingCreated(NAT, host, entry);
      if ((i & (BATCH - 1)) === BATCH - 1) {
        now++;
        agent.flush();
        acknowledge();
      }
    }
    agent.flush();
    acknowledge();
  };
  loop(200_000); // warm-up
  handedOff = 0;
  gcs = 0;
  const start = process.hrtime.bigint();
  loop(MAPPINGS);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const gcsSeen = gcs;
  const perSecond = MAPPINGS / seconds;
  console.log(
    `${name.padEnd(34)} ${(perSecond / 1e6).toFixed(2)} M mappings/s   ${((gcsSeen * 1e6) / MAPPINGS).toFixed(1)} GCs per million   ` +
      `handed off ${handedOff}   buffers ${agent.buffersAllocated}`,
  );
  return { agent, hostList };
}

async function lookups({ agent, hostList }) {
  const count = 20_000_000;
  const mask = hostList.length - 1;
  let hits = 0;
  gcs = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) if (agent.isAuthoritative(NAT, hostList[i & mask])) hits++;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(
    `${`isAuthoritative (${hostList.length} peers)`.padEnd(34)} ${(count / seconds / 1e6).toFixed(1)} M lookups/s   ${((gcs * 1e6) / count).toFixed(2)} GCs per million   (${hits} hits)`,
  );
}

await run('1 host, untagged', { hosts: 1 });
const many = await run('1024 hosts, untagged', { hosts: 1024 });
await run('1 host, tagged (HMAC-SHA-256)', { hosts: 1, key: KEY });
await lookups(many);
