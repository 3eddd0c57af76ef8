// Receive throughput of the TUN binding against a plain fs.read loop, in one run, as root:
//
//   namespace nat64-tun-bench-<pid>-<random>
//     flood.mjs ──(dgram to 192.0.2.2, or writeBatch into tunsrc and forwarding)──▶ tunrx
//     tunrx ──▶ reader: "binding" (openTun, a callback that only counts)
//                       "fs.read" (blocking descriptor, one fs.read in flight)
//
// Two measurements per reader: "flood" reads while the flooder runs (on a 2-core machine the
// flooder and the reader share the CPUs, so the slower of the two sets the rate); "drain" reads
// a device queue the flooder filled beforehand (--drain packets, --mode tun only), which is the
// reader alone.
//
// Usage: node bench/rx-throughput.mjs [--mode tun|udp] [--seconds 3] [--payload 18] [--rounds 2]
//                                     [--drain 100000]
// Needs the package built (pnpm --filter @nat64/tun build).
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, read, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openTun } from '../dist/index.js';
import { loadNative } from '../dist/native.js';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'tun' },
    seconds: { type: 'string', default: '3' },
    payload: { type: 'string', default: '18' },
    rounds: { type: 'string', default: '2' },
    drain: { type: 'string', default: '100000' },
    inside: { type: 'boolean', default: false },
  },
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ip = (...rest) => execFileSync('ip', rest, { stdio: ['ignore', 'ignore', 'inherit'] });
const statistic = (name) => Number(readFileSync(`/sys/class/net/tunrx/statistics/${name}`, 'utf8'));

if (args.inside) await inside();
else outside();

/** Makes the namespace, runs this script again inside it, and always removes the namespace. */
function outside() {
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark makes a network namespace and TUN devices');
  const namespace = `nat64-tun-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  ip('netns', 'add', namespace);
  const cleanup = () => spawnSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const self = fileURLToPath(import.meta.url);
    const forwarded = [...process.argv.slice(2), '--inside'];
    const result = spawnSync('ip', ['netns', 'exec', namespace, process.execPath, self, ...forwarded], { stdio: 'inherit' });
    process.exitCode = result.status ?? 1;
  } finally {
    cleanup();
  }
}

function setUp(mode) {
  ip('link', 'set', 'lo', 'up');
  ip('tuntap', 'add', 'dev', 'tunrx', 'mode', 'tun');
  ip('addr', 'add', '192.0.2.1/24', 'dev', 'tunrx');
  // Room for the whole drain test in the device queue.
  ip('link', 'set', 'tunrx', 'txqueuelen', String(Number(args.drain) + 1000), 'up');
  if (mode === 'tun') {
    ip('tuntap', 'add', 'dev', 'tunsrc', 'mode', 'tun');
    ip('addr', 'add', '198.51.100.254/24', 'dev', 'tunsrc');
    ip('link', 'set', 'tunsrc', 'up');
    for (const key of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.tunsrc.rp_filter=0']) {
      execFileSync('sysctl', ['-qw', key]);
    }
  }
}

async function startFlood(mode) {
  const child = fork(new URL('./flood.mjs', import.meta.url), [mode, args.payload], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let lines = '';
  const waiters = [];
  child.stdout.on('data', (chunk) => {
    lines += chunk.toString();
    for (let newline = lines.indexOf('\n'); newline >= 0; newline = lines.indexOf('\n')) {
      waiters.shift()?.(Number(lines.slice(0, newline)));
      lines = lines.slice(newline + 1);
    }
  });
  await new Promise((resolve) => child.once('message', resolve));
  return {
    offered: () =>
      new Promise((resolve) => {
        waiters.push(resolve);
        child.kill('SIGUSR2');
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGKILL');
      }),
  };
}

/** Rates over a window while the flooder runs; `received` counts what the reader got. */
async function underFlood(mode, received) {
  const flood = await startFlood(mode);
  await sleep(500);
  const start = {
    received: received(),
    offered: await flood.offered(),
    dropped: statistic('tx_dropped'),
    cpu: process.cpuUsage(),
    at: process.hrtime.bigint(),
  };
  await sleep(Number(args.seconds) * 1000);
  const seconds = Number(process.hrtime.bigint() - start.at) / 1e9;
  const cpu = process.cpuUsage(start.cpu);
  const rates = {
    received: (received() - start.received) / seconds,
    offered: ((await flood.offered()) - start.offered) / seconds,
    dropped: (statistic('tx_dropped') - start.dropped) / seconds,
    cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
  return { rates, flood };
}

/**
 * Fills the device queue with about --drain packets while nobody reads it; returns how many it
 * holds (what was offered less what the device dropped). Needs the tun flood: a socket's
 * packets would stay charged to its send buffer and stall the sender long before.
 */
async function fill(mode) {
  const dropped = statistic('tx_dropped');
  const flood = await startFlood(mode);
  let offered = 0;
  while (offered < Number(args.drain)) {
    await sleep(20);
    offered = await flood.offered();
  }
  await flood.stop();
  return offered - (statistic('tx_dropped') - dropped);
}

/** Times a reader, attached before the queue was filled, from start() until it read `total`. */
async function drain(reader, total) {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await new Promise((resolve) => {
    reader.onPackets = () => reader.packets >= total && resolve();
    reader.start();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { received: total / seconds, cpu: (used.user + used.system) / 1e6 / seconds, packets: total };
}

/** The binding with a callback that only counts. The kernel queues packets once it is open. */
function bindingReader() {
  const device = openTun({ name: 'tunrx' });
  const reader = {
    device,
    packets: 0,
    onPackets: () => {},
    start: () =>
      device.start((count) => {
        reader.packets += count;
        reader.onPackets();
      }),
    stop: async () => device.close(),
  };
  return reader;
}

/** The plain loop: one fs.read at a time on a blocking descriptor, in the thread pool. */
function fsReader() {
  const { fd } = loadNative().open('tunrx', false, -1, 0, false, false);
  const buffer = Buffer.alloc(2048);
  let running = false;
  let stopping = false;
  let stopped = () => {};
  const next = () =>
    read(fd, buffer, 0, buffer.length, null, (error) => {
      if (error) throw error;
      reader.packets++;
      reader.onPackets();
      if (stopping || reader.packets >= reader.limit) {
        running = false;
        stopped();
      } else next();
    });
  const reader = {
    packets: 0,
    limit: Infinity,
    onPackets: () => {},
    start: () => {
      running = true;
      next();
    },
    // A read in flight holds a thread-pool thread until a packet comes, so with a read running
    // this must be called while packets still arrive.
    stop: async () => {
      if (running) {
        await new Promise((resolve) => {
          stopped = resolve;
          stopping = true;
        });
      }
      closeSync(fd);
    },
  };
  return reader;
}

async function flood(mode, reader) {
  reader.start();
  const { rates, flood } = await underFlood(mode, () => reader.packets);
  await reader.stop();
  await flood.stop();
  const counters = reader.device?.counters;
  return { ...rates, perBatch: counters ? counters.rxPackets / counters.rxBatches : undefined };
}

async function drainFull(mode, reader) {
  const total = await fill(mode);
  // The fs.read loop ends by itself after the last queued packet instead of blocking on the next.
  reader.limit = total;
  const rates = await drain(reader, total);
  await reader.stop();
  const counters = reader.device?.counters;
  return { ...rates, perBatch: counters ? counters.rxPackets / counters.rxBatches : undefined };
}

async function inside() {
  const mode = args.mode;
  setUp(mode);
  const number = (value) => Math.round(value).toLocaleString('en').padStart(10);
  const line = (name, r) =>
    [
      `${name.padEnd(8)} ${number(r.received)} pkt/s`,
      `reader CPU ${(r.cpu * 100).toFixed(0).padStart(3)}%`,
      `${number(r.received / r.cpu)} pkt/CPU-s`,
      r.offered === undefined ? `${r.packets.toLocaleString('en')} queued` : `offered ${number(r.offered)}/s`,
      r.offered === undefined ? '' : `kernel dropped ${number(r.dropped)}/s`,
      r.perBatch ? `${r.perBatch.toFixed(1)} pkt/batch` : '',
    ]
      .filter(Boolean)
      .join('  ');
  console.log(`flood by ${mode}, ${args.payload}-byte UDP payloads, ${args.seconds} s windows, ` + `drain ${args.drain} packets, node ${process.version}`);
  for (let round = 1; round <= Number(args.rounds); round++) {
    console.log(`round ${round}, reading during the flood:`);
    console.log(line('binding', await flood(mode, bindingReader())));
    console.log(line('fs.read', await flood(mode, fsReader())));
    if (mode !== 'tun') continue;
    console.log(`round ${round}, draining a full queue:`);
    console.log(line('binding', await drainFull(mode, bindingReader())));
    console.log(line('fs.read', await drainFull(mode, fsReader())));
  }
}
