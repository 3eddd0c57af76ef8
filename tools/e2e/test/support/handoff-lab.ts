// The handoff end-to-end lab: the gateway topology of gateway-lab.ts with the receiver and small
// servers on the IPv4 host, and the means to watch them (connection log, database, packet capture):
//
//   client (IPv6 only)           gateway                                   server (IPv4 only)
//   2001:db8:1::2 ---veth--- 2001:db8:1::1                                  203.0.113.2
//                             TUN "nat64" <- nat64-gateway      ---veth---  nat64-receiver on UDP 62863
//                             prefix 2001:db8:64::/96                       HTTP on 8080 (says the peer it saw)
//                             pool4 198.51.100.1    203.0.113.1             TCP servers, tshark capture
//
// Documentation addresses only; everything lives in the lab's namespaces, removed on every path.

import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, waitForLine, type Namespace } from '@nat64/netlab';
import { ADDRESSES, REPO, type Topology } from './gateway-lab.js';

export const RECEIVER_MAIN = join(REPO, 'apps/receiver/dist/main.js');

/** Why the built receiver cannot be run (undefined when it can). */
export function receiverUnbuiltReason(): string | undefined {
  return existsSync(RECEIVER_MAIN) ? undefined : `${RECEIVER_MAIN} is missing: build with pnpm --filter @nat64/receiver build`;
}

export interface RunningReceiver {
  readonly child: ChildProcess;
  readonly connLog: string;
  readonly database: string;
  readonly control: string;
  /** Connection log lines without their timestamps ("Created 198.51.100.1:1234 [2001:db8:1::2]:5678"). */
  lines(): string[];
  /** SIGKILL, then the exit. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts nat64-receiver in the server namespace, on the server's address, with its files in `dir`. */
export function startReceiver(t: Topology, dir: string, extra: string[] = []): Promise<RunningReceiver> {
  return startReceiverIn(t.server, ADDRESSES.server, dir, undefined, extra);
}

/** Starts nat64-receiver in `namespace` listening on `address` (its default transport unless given), with its files in `dir`. */
export async function startReceiverIn(
  namespace: Namespace,
  address: string,
  dir: string,
  transport?: 'handoff' | 'geneve' | 'both',
  extra: string[] = [],
): Promise<RunningReceiver> {
  const connLog = join(dir, 'connections.log');
  const database = join(dir, 'connections.db');
  const control = join(dir, 'receiver.sock');
  const args = [RECEIVER_MAIN, 'run', '--listen', address, ...(transport === undefined ? [] : ['--transport', transport])];
  const child = namespace.spawn('node', [...args, '--db', database, '--conn-log', connLog, '--control', control, ...extra]);
  await waitForLine(child.stderr!, /receiver started/, 15_000);
  child.stderr!.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    connLog,
    database,
    control,
    lines: () =>
      existsSync(connLog)
        ? readFileSync(connLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => line.slice(27))
        : [],
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The running receiver's counters by name, through its CLI. */
export async function receiverCounters(t: Topology, receiver: RunningReceiver): Promise<Record<string, number>> {
  const answer = JSON.parse(await receiverCli(t, ['stats', '--control', receiver.control, '--json', '--all'])) as { counters: { name: string; value: number }[] };
  return Object.fromEntries(answer.counters.map((c) => [c.name, c.value]));
}

/** Runs the receiver's CLI (dump, lookup, stats) in the server namespace. */
export async function receiverCli(t: Topology, args: string[]): Promise<string> {
  const result = await t.server.run('node', [RECEIVER_MAIN, ...args], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`nat64-receiver ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

export interface HttpServer {
  readonly child: ChildProcess;
  /** "address:port" of every peer the server saw, in order. */
  readonly peers: string[];
}

/** An HTTP server on the server's address that answers each request with the peer it saw, and records it. */
export async function startHttpServer(t: Topology, port = 8080): Promise<HttpServer> {
  const script = `
    require('http').createServer((req, res) => {
      const peer = req.socket.remoteAddress + ':' + req.socket.remotePort;
      console.log('peer ' + peer);
      res.end(peer + '\\n');
    }).listen(${port}, '${ADDRESSES.server}', () => console.log('listening'));
  `;
  const child = t.server.spawn('node', ['-e', script]);
  await waitForLine(child.stdout!, /^listening$/);
  const peers: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.startsWith('peer ')) peers.push(line.slice(5));
  });
  return { child, peers };
}

export interface Curl {
  code: number;
  body: string;
  /** The client's own port, as curl reports it. */
  localPort: number;
}

/** curl from the client to the server through the prefix. */
export async function curl(t: Topology, port = 8080, extra: string[] = []): Promise<Curl> {
  const result = await t.client.run('curl', ['-sS', '--max-time', '10', '-w', '\\n%{local_port}', ...extra, `http://[${ADDRESSES.serverSix}]:${port}/`], {
    timeoutMs: 15_000,
  });
  const lines = result.stdout.trimEnd().split('\n');
  return { code: result.code, body: lines.slice(0, -1).join('\n').trim(), localPort: Number(lines.at(-1)) };
}

export interface Capture {
  /** Stops the capture and returns one line per UDP datagram: "198.51.100.1:62863 > 203.0.113.2:62863 36". */
  stop(): Promise<string[]>;
}

/**
 * tshark in `namespace` with capture filter `filter`, written to a file in `dir`. (tshark rather than
 * tcpdump: on this machine's kernel tcpdump's compiled filter for `udp port N` matches nothing.)
 */
export async function capture(namespace: Namespace, dir: string, name: string, filter: string): Promise<Capture> {
  const file = join(dir, `${name}.pcapng`);
  const child = namespace.spawn('tshark', ['-i', 'any', '-n', '-f', filter, '-w', file]);
  await waitForLine(child.stderr!, /Capture started|Capturing on/, 15_000);
  // tshark says so a moment before the socket sees packets.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      const read = await namespace.run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'udp.length']);
      return read.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [src, sport, dst, dport, length] = line.split('\t');
          return `${src}:${sport} > ${dst}:${dport} ${Number(length) - 8}`;
        });
    },
  };
}

/** The gateway's counters as { "group.name": value }, through its CLI. */
export async function gatewayCounters(gatewayMain: string, control: string): Promise<Record<string, number>> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('node', [gatewayMain, 'stats', '--control', control, '--json', '--all'], { timeout: 20_000 }, (error, out, err) =>
      error === null ? resolve(out) : reject(new Error(`stats failed: ${err}`)),
    ),
  );
  const lines = JSON.parse(stdout) as { group: string; name: string; value: number }[];
  return Object.fromEntries(lines.map((line) => [`${line.group}.${line.name}`, line.value]));
}

/** The gateway's handoff peers, through its CLI. */
export async function gatewayHosts(gatewayMain: string, control: string): Promise<{ mode: string; hosts: Record<string, string | number | null>[] }> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('node', [gatewayMain, 'hosts', '--control', control, '--json'], { timeout: 20_000 }, (error, out, err) =>
      error === null ? resolve(out) : reject(new Error(`hosts failed: ${err}`)),
    ),
  );
  return JSON.parse(stdout) as { mode: string; hosts: Record<string, string | number | null>[] };
}

/** Waits until the gateway's peer for the server is in `state` with nothing in flight or queued. */
export async function waitForQuietPeer(gatewayMain: string, control: string, state: string, timeoutMs = 15_000): Promise<void> {
  let last: unknown;
  try {
    await waitFor(
      `the gateway's peer ${ADDRESSES.server} to be ${state} and quiet`,
      async () => {
        const { hosts } = await gatewayHosts(gatewayMain, control);
        const peer = hosts.find((row) => row['host'] === ADDRESSES.server);
        last = peer;
        return peer !== undefined && peer['state'] === state && peer['inFlight'] === 0 && peer['queued'] === 0;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}
