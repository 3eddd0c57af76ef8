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
import { expect } from 'vitest';
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
  const answer = JSON.parse(await receiverCli(t, ['stats', '--control', receiver.control, '--json', '--all'])) as {
    counters: { name: string; value: number }[];
  };
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
export function startHttpServer(t: Topology, port = 8080): Promise<HttpServer> {
  return startHttpServerIn(t.server, ADDRESSES.server, port);
}

/** The same HTTP server on `address` in `namespace`. */
export async function startHttpServerIn(namespace: Namespace, address: string, port = 8080): Promise<HttpServer> {
  const script = `
    require('http').createServer((req, res) => {
      const peer = req.socket.remoteAddress + ':' + req.socket.remotePort;
      console.log('peer ' + peer);
      res.end(peer + '\\n');
    }).listen(${port}, '${address}', () => console.log('listening'));
  `;
  const child = namespace.spawn('node', ['-e', script]);
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
export function curl(t: Topology, port = 8080, extra: string[] = []): Promise<Curl> {
  return curlTo(t, ADDRESSES.serverSix, port, extra);
}

/** curl from the client to `serverSix`, an IPv4 host under the prefix. */
export async function curlTo(t: Topology, serverSix: string, port = 8080, extra: string[] = []): Promise<Curl> {
  const result = await t.client.run('curl', ['-sS', '--max-time', '10', '-w', '\\n%{local_port}', ...extra, `http://[${serverSix}]:${port}/`], {
    timeoutMs: 15_000,
  });
  const lines = result.stdout.trimEnd().split('\n');
  return { code: result.code, body: lines.slice(0, -1).join('\n').trim(), localPort: Number(lines.at(-1)) };
}

/**
 * curls `serverSix` (the server by default), whose HTTP server is `http`: the body is the peer the
 * server saw, from the NAT address, and `receiver` logs Initialized first, then Created with the real
 * client under that NAT port. Returns the curl and the NAT port.
 */
export async function curlAndExpectLogged(
  t: Topology,
  http: HttpServer,
  receiver: RunningReceiver,
  serverSix: string = ADDRESSES.serverSix,
): Promise<{ result: Curl; natPort: string }> {
  const result = await curlTo(t, serverSix);
  expect(result.code).toBe(0);
  const seen = http.peers.at(-1)!;
  expect(result.body).toBe(seen);
  const [address, natPort] = seen.split(':') as [string, string];
  expect(address).toBe(ADDRESSES.pool4);
  await waitFor(`the Created line on ${serverSix}`, () =>
    receiver.lines().includes(`Created ${ADDRESSES.pool4}:${natPort} [${ADDRESSES.client}]:${result.localPort}`),
  );
  expect(receiver.lines()[0]).toBe(`Initialized ${ADDRESSES.pool4}`);
  return { result, natPort };
}

/**
 * A TCP connection from the client to the server (port `port`) through the gateway: say(word) makes
 * the server send `word`, and resolves once the client got it and the server got the client's answer,
 * "re:" + word.
 */
export interface Conversation {
  /** The NAT port the server saw, and the client's own port. */
  readonly natPort: string;
  readonly clientPort: string;
  say(word: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function startConversation(t: Topology, port = 9000): Promise<Conversation> {
  const server = t.server.spawn('node', [
    '-e',
    `require('net').createServer((s) => {
       console.log('accepted ' + s.remotePort);
       process.stdin.on('data', (d) => s.write(d));
       s.on('data', (d) => console.log('server got ' + d));
     }).listen(${port}, '${ADDRESSES.server}', () => console.log('listening'));`,
  ]);
  let client: ChildProcess | undefined;
  const close = () => {
    client?.kill();
    server.kill();
  };
  try {
    await waitForLine(server.stdout!, /^listening$/);
    client = t.client.spawn('node', [
      '-e',
      `const s = require('net').connect(${port}, '${ADDRESSES.serverSix}', () => console.log('connected ' + s.localPort));
       s.on('data', (d) => { console.log('client got ' + d); s.write('re:' + d); });`,
    ]);
    const spawned = client;
    const natPort = (await waitForLine(server.stdout!, /^accepted \d+$/)).split(' ')[1]!;
    const clientPort = (await waitForLine(spawned.stdout!, /^connected \d+$/)).split(' ')[1]!;
    const say = async (word: string, timeoutMs = 10_000) => {
      const clientGot = waitForLine(spawned.stdout!, new RegExp(`^client got ${word}$`), timeoutMs);
      const serverGot = waitForLine(server.stdout!, new RegExp(`^server got re:${word}$`), timeoutMs);
      server.stdin!.write(word);
      await clientGot;
      await serverGot;
    };
    return { natPort, clientPort, say, close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * A TCP connection like Conversation in which the *client* speaks first: ask(word) makes the client
 * send `word`, and resolves once the server got it on the connection it accepted and the client got
 * the server's answer, "ack:" + word. `accepted` counts the connections the server accepted.
 */
export interface ClientConversation {
  readonly natPort: string;
  readonly clientPort: string;
  ask(word: string, timeoutMs?: number): Promise<void>;
  /** Sends `word` and resolves with the socket error the client then gets ("ECONNRESET"). */
  askAndFail(word: string, timeoutMs?: number): Promise<string>;
  accepted(): number;
  close(): void;
}

export async function startClientConversation(t: Topology, port = 9100): Promise<ClientConversation> {
  const server = t.server.spawn('node', [
    '-e',
    `require('net').createServer((s) => {
       console.log('accepted ' + s.remotePort);
       s.on('data', (d) => { console.log('server got ' + d + ' from ' + s.remotePort); s.write('ack:' + d); });
     }).listen(${port}, '${ADDRESSES.server}', () => console.log('listening'));`,
  ]);
  let client: ChildProcess | undefined;
  let accepted = 0;
  const close = () => {
    client?.kill();
    server.kill();
  };
  try {
    await waitForLine(server.stdout!, /^listening$/);
    client = t.client.spawn('node', [
      '-e',
      `const s = require('net').connect(${port}, '${ADDRESSES.serverSix}', () => console.log('connected ' + s.localPort));
       s.on('data', (d) => console.log('client got ' + d));
       s.on('error', (e) => console.log('client error ' + e.code));
       process.stdin.on('data', (d) => s.write(String(d).trim()));`,
    ]);
    const spawned = client;
    const natPort = (await waitForLine(server.stdout!, /^accepted \d+$/)).split(' ')[1]!;
    accepted = 1;
    server.stdout!.on('data', (chunk: Buffer) => {
      accepted += chunk
        .toString()
        .split('\n')
        .filter((line) => line.startsWith('accepted ')).length;
    });
    const clientPort = (await waitForLine(spawned.stdout!, /^connected \d+$/)).split(' ')[1]!;
    const ask = async (word: string, timeoutMs = 10_000) => {
      const serverGot = waitForLine(server.stdout!, new RegExp(`^server got ${word} from ${natPort}$`), timeoutMs);
      const clientGot = waitForLine(spawned.stdout!, new RegExp(`^client got ack:${word}$`), timeoutMs);
      spawned.stdin!.write(`${word}\n`);
      await serverGot;
      await clientGot;
    };
    const askAndFail = async (word: string, timeoutMs = 10_000) => {
      const failed = waitForLine(spawned.stdout!, /^client error /, timeoutMs);
      spawned.stdin!.write(`${word}\n`);
      return (await failed).split(' ')[2]!;
    };
    return { natPort, clientPort, ask, askAndFail, accepted: () => accepted, close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * A UDP flow from one client socket to a UDP echo server on the server: send(word) sends `word` and
 * resolves with the peer (NAT "address:port") the server saw once the client got the echo back.
 */
export interface UdpFlow {
  send(word: string, timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function startUdpFlow(t: Topology, port = 9998): Promise<UdpFlow> {
  const server = t.server.spawn('node', [
    '-e',
    `const s = require('dgram').createSocket('udp4');
     s.on('message', (m, r) => { console.log('peer ' + r.address + ':' + r.port + ' ' + m); s.send(m, r.port, r.address); });
     s.bind(${port}, '${ADDRESSES.server}', () => console.log('listening'));`,
  ]);
  let client: ChildProcess | undefined;
  const close = () => {
    client?.kill();
    server.kill();
  };
  try {
    await waitForLine(server.stdout!, /^listening$/);
    client = t.client.spawn('node', [
      '-e',
      `const s = require('dgram').createSocket('udp6');
       s.on('message', (m) => console.log('echo ' + m));
       s.bind(0, () => console.log('bound'));
       process.stdin.on('data', (d) => s.send(String(d).trim(), ${port}, '${ADDRESSES.serverSix}'));`,
    ]);
    const spawned = client;
    await waitForLine(spawned.stdout!, /^bound$/);
    const send = async (word: string, timeoutMs = 10_000) => {
      const seen = waitForLine(server.stdout!, new RegExp(`^peer \\S+ ${word}$`), timeoutMs);
      const echoed = waitForLine(spawned.stdout!, new RegExp(`^echo ${word}$`), timeoutMs);
      spawned.stdin!.write(`${word}\n`);
      const line = await seen;
      await echoed;
      return line.split(' ')[1]!;
    };
    return { send, close };
  } catch (error) {
    close();
    throw error;
  }
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
      const read = await namespace.run('tshark', [
        '-n',
        '-r',
        file,
        '-T',
        'fields',
        '-e',
        'ip.src',
        '-e',
        'udp.srcport',
        '-e',
        'ip.dst',
        '-e',
        'udp.dstport',
        '-e',
        'udp.length',
      ]);
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
  const lines = (JSON.parse(stdout) as { counters: { group: string; name: string; value: number }[] }).counters;
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
