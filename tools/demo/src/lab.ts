// The demo's hosts: three network namespaces joined by veth links, the built programs started in
// them, and small helpers to wait for what they say. Everything is named with the lab's run id and
// removed by Lab.destroy(), which also runs on exit, Ctrl-C and SIGTERM.
//
//   client (IPv6 only)              gateway                                    server (IPv4 only)
//   2001:db8:1::2-4/64 ---veth--- 2001:db8:1::1/64                             203.0.113.2/24
//                                  TUN "nat64" <- nat64-gateway --handoff full   nat64-receiver (UDP 62863)
//   route 2001:db8:64::/96          2001:db8:64::/96, 198.51.100.1               HTTP server on 8080
//     via 2001:db8:1::1             203.0.113.1/24 -------------------veth---  route 198.51.100.1 via .1

import { execFile, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { NAT64_ADDRESSES, createNat64Topology, waitForLine, type Lab, type Namespace } from '@nat64/netlab';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const GATEWAY = join(ROOT, 'apps/gateway/dist/main.js');
export const RECEIVER = join(ROOT, 'apps/receiver/dist/main.js');

export const ADDRESSES = {
  ...NAT64_ADDRESSES,
  clients: ['2001:db8:1::2', '2001:db8:1::3', '2001:db8:1::4'],
} as const;

export interface Hosts {
  readonly lab: Lab;
  readonly client: Namespace;
  readonly gateway: Namespace;
  readonly server: Namespace;
}

export function createHosts(): Hosts {
  return createNat64Topology('demo', ADDRESSES.clients);
}

/** Starts a long-running program and waits for the line that says it is ready (on stdout or stderr). */
export async function startAndWait(
  namespace: Namespace,
  command: string,
  args: string[],
  ready: RegExp,
  stream: 'stdout' | 'stderr' = 'stderr',
): Promise<ChildProcess> {
  const child = namespace.spawn(command, args);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${command} ${args[1] ?? ''} exited with ${code} before it was ready`))),
  );
  await Promise.race([waitForLine(child[stream]!, ready, 20_000), exited]);
  // Keep reading so a chatty child never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** Runs the gateway's CLI against its control socket (it is a path, reachable from any namespace). */
export function gatewayCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('node', [GATEWAY, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      error === null ? resolve(stdout) : reject(new Error(stderr || error.message)),
    ),
  );
}
