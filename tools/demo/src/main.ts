#!/usr/bin/env node
// pnpm demo: NAT64 handoff with the real programs, on hosts made of network namespaces (lab.ts): an
// IPv6-only client curls an IPv4-only server through nat64-gateway, which hands each connection to
// the nat64-receiver on that server. Prints what the server saw, the receiver's connection log, the
// answer to an abuse report (`lookup`) and the gateway's view of the host; then the same gateway with
// `--transport bypass`: the server accepts NAT64 bypass and sees the real IPv6 client. Removes
// everything, also on Ctrl-C or failure. Exits 77 with a note where it cannot run (not root, tools missing).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { labUnavailableReason, waitFor } from '@nat64/netlab';
import { ADDRESSES, GATEWAY, RECEIVER, createHosts, gatewayCli, startAndWait, type Hosts } from './lab.js';

const unavailable = labUnavailableReason(['curl']);
if (unavailable) {
  console.error(`demo: cannot run here: ${unavailable}`);
  process.exit(77);
}

const dir = mkdtempSync(join(tmpdir(), 'nat64-demo-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const connLog = join(dir, 'connections.log');
const database = join(dir, 'connections.db');
const control = join(dir, 'gateway.sock');
const bypassControl = join(dir, 'gateway-bypass.sock');
let gatewayChild: ChildProcess | undefined;

function say(text: string): void {
  console.log(`demo: ${text}`);
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

async function start(hosts: Hosts): Promise<void> {
  const { server, gateway } = hosts;
  say(`server ${ADDRESSES.server} (IPv4 only) starts nat64-receiver on UDP 62863 (and 6081, for bypass later) and an HTTP server on port 8080`);
  const transports = ['--transport', 'handoff,geneve,bypass', '--bypass-prefix', ADDRESSES.prefix, '--allow', `${ADDRESSES.pool4}/32`];
  await startAndWait(
    server,
    'node',
    [RECEIVER, 'run', '--listen', ADDRESSES.server, ...transports, '--db', database, '--conn-log', connLog, '--control', join(dir, 'receiver.sock')],
    /receiver started/,
  );
  await startAndWait(
    server,
    'node',
    [
      '-e',
      `require('http').createServer((req, res) => res.end('hello from ${ADDRESSES.server}, you are ' + req.socket.remoteAddress + ':' + req.socket.remotePort + '\\n'))
         .listen(8080, '${ADDRESSES.server}', () => console.log('listening'));`,
    ],
    /^listening$/,
    'stdout',
  );
  say(`gateway runs nat64-gateway --prefix ${ADDRESSES.prefix} --pool4 ${ADDRESSES.pool4} (handoff mode full, the default)`);
  gatewayChild = await startAndWait(
    gateway,
    'node',
    [GATEWAY, 'run', '--tun', 'nat64', '--prefix', ADDRESSES.prefix, '--pool4', ADDRESSES.pool4, '--control', control],
    /nat64-gateway running/,
  );
  gateway.ip('-6', 'route', 'add', ADDRESSES.prefix, 'dev', 'nat64');
  gateway.ip('route', 'add', `${ADDRESSES.pool4}/32`, 'dev', 'nat64');
}

/** Three curls from different IPv6 addresses; returns "NAT address:port" -> "[client]:port" as the server saw them. */
async function browse(hosts: Hosts): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const url = `http://[${ADDRESSES.serverSix}]:8080/`;
  say(`clients ${ADDRESSES.clients.join(', ')} (IPv6 only) curl ${url}`);
  // Neighbour discovery on the fresh link would cost the first SYN of each address a retransmission.
  for (const client of ADDRESSES.clients) await hosts.client.run('ping', ['-6', '-c', '1', '-W', '1', '-I', client, ADDRESSES.gatewaySix]);
  for (const client of ADDRESSES.clients) {
    const result = await hosts.client.run('curl', ['-sS', '--max-time', '10', '--interface', client, '-w', '%{local_port}', url], { timeoutMs: 15_000 });
    if (result.code !== 0) throw new Error(`curl from ${client} failed: ${result.stderr.trim()}`);
    const match = /you are (\S+)\n(\d+)$/.exec(result.stdout);
    if (match === null) throw new Error(`unexpected answer: ${result.stdout}`);
    const [, nat, port] = match;
    console.log(`    [${client}]:${port} -> the server saw ${nat}`);
    seen.set(nat!, `[${client}]:${port}`);
  }
  return seen;
}

async function report(hosts: Hosts, seen: Map<string, string>): Promise<void> {
  const lines = () => (readFileSync(connLog, { encoding: 'utf8', flag: 'a+' }) as string).split('\n').filter(Boolean);
  await waitFor(
    'the receiver to log every connection',
    () => [...seen].every(([nat, client]) => lines().some((line) => line.endsWith(`Created ${nat} ${client}`))),
    10_000,
  );
  console.log(`\nThe server saw only ${ADDRESSES.pool4}. Its receiver's connection log (${connLog}) names every IPv6 client:\n`);
  console.log(indent(lines().join('\n')));
  const [nat, client] = [...seen][1]!;
  console.log(`\nAn abuse report names ${nat}. On the server, nat64-receiver lookup ${nat} answers (${client} expected):\n`);
  const lookup = await hosts.server.run('node', [RECEIVER, 'lookup', nat, '--db', database]);
  console.log(indent(lookup.stdout || lookup.stderr));
  console.log('\nThe gateway handed the connections to that host (nat64-gateway hosts):\n');
  console.log(indent(await gatewayCli(['hosts', '--control', control])));
  console.log('');
}

/** The gateway again, with --transport bypass: once the server accepts, it sees the real IPv6 client. */
async function bypass(hosts: Hosts): Promise<void> {
  const { server, gateway, client } = hosts;
  say('the gateway restarts with --transport bypass; the server adds an HTTP server on [::]:8081 (bypassed clients arrive over IPv6)');
  if (gatewayChild !== undefined) {
    const exited = new Promise((resolve) => gatewayChild!.once('exit', resolve));
    gatewayChild.kill('SIGTERM');
    await exited;
  }
  await startAndWait(
    server,
    'node',
    [
      '-e',
      `require('http').createServer((req, res) => res.end('you are ' + req.socket.remoteAddress + ':' + req.socket.remotePort + '\\n')).listen(8081, '::', () => console.log('listening'));`,
    ],
    /^listening$/,
    'stdout',
  );
  const secret = join(dir, 'bypass-secret');
  await startAndWait(
    gateway,
    'node',
    [
      GATEWAY,
      'run',
      '--tun',
      'nat64',
      '--prefix',
      ADDRESSES.prefix,
      '--pool4',
      ADDRESSES.pool4,
      '--control',
      bypassControl,
      '--transport',
      'bypass',
      '--bypass-secret-file',
      secret,
    ],
    /nat64-gateway running/,
  );
  gateway.ip('-6', 'route', 'add', ADDRESSES.prefix, 'dev', 'nat64');
  gateway.ip('route', 'add', `${ADDRESSES.pool4}/32`, 'dev', 'nat64');
  const url = `http://[${ADDRESSES.serverSix}]:8081/`;
  const fetch = async () => {
    const result = await client.run('curl', ['-sS', '--max-time', '10', '--interface', ADDRESSES.clients[0], url], { timeoutMs: 15_000 });
    if (result.code !== 0) throw new Error(`curl failed: ${result.stderr.trim()}`);
    return result.stdout.trim();
  };
  console.log(`    first curl (translated; the gateway offers bypass to ${ADDRESSES.server}): the server says "${await fetch()}"`);
  await waitFor(
    'the server to accept bypass',
    async () => (await gatewayCli(['hosts', '--control', bypassControl, '--json'])).includes('"transport":"bypass"'),
    20_000,
  );
  console.log(`    next curl (through the tunnel, untranslated):                    the server says "${await fetch()}"`);
  console.log('\nThe gateway keeps no session for it; nat64-gateway hosts shows the tunnel:\n');
  console.log(indent(await gatewayCli(['hosts', '--control', bypassControl])));
  console.log('');
}

const started = performance.now();
let hosts: Hosts | undefined;
try {
  say('creating the hosts: client (IPv6 only) -- gateway (NAT64 on a TUN device) -- server (IPv4 only)');
  hosts = createHosts();
  await start(hosts);
  const seen = await browse(hosts);
  await report(hosts, seen);
  await bypass(hosts);
  say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; removing the hosts`);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  hosts?.lab.destroy();
}
