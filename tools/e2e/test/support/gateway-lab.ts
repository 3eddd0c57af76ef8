// The gateway's end-to-end topology and the means to drive the real `nat64-gateway` in it:
//
//   client (IPv6 only)            gateway                                   server (IPv4 only)
//   2001:db8:1::2/64 ---veth--- 2001:db8:1::1/64
//                                TUN "nat64" <- nat64-gateway                203.0.113.2/24
//                                 2001:db8:64::/96 and 198.51.100.1 routed
//                                 into it            203.0.113.1/24 ---veth--- route 198.51.100.1 via .1
//   route 2001:db8:64::/96 via 2001:db8:1::1
//
// The server is 2001:db8:64::203.0.113.2 (2001:db8:64::cb00:7102) to the client; the client's flows
// leave from 198.51.100.1. Documentation addresses only, and routes only inside the lab.

import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NAT64_ADDRESSES, createNat64Topology, waitForLine, type Nat64Topology } from '@nat64/netlab';

export const REPO = join(import.meta.dirname, '../../../..');
export const GATEWAY_MAIN = join(REPO, 'apps/gateway/dist/main.js');

export const ADDRESSES = NAT64_ADDRESSES;

/** `nat64-gateway run` arguments for the lab: its prefix and pool4 (which startGateway routes), and a control socket. */
export function labArguments(control: string): string[] {
  return ['--prefix', ADDRESSES.prefix, '--pool4', ADDRESSES.pool4, '--control', control];
}

/** startGateway with the lab's arguments (labArguments) and `args`. */
export function startLabGateway(t: Topology, control: string, args: string[] = []): Promise<RunningGateway> {
  return startGateway(t, [...labArguments(control), ...args]);
}

/** The three hosts (netlab's NAT64 topology); tests that need the link names take them from there. */
export type Topology = Pick<Nat64Topology, 'lab' | 'client' | 'gateway' | 'server'>;

/** Why the built gateway cannot be run (undefined when it can). */
export function gatewayUnbuiltReason(): string | undefined {
  return existsSync(GATEWAY_MAIN) ? undefined : `${GATEWAY_MAIN} is missing: build with pnpm --filter @nat64/gateway build`;
}

/** Creates the three namespaces and their links; the TUN routes come once the gateway runs. */
export function createTopology(tag: string): Topology {
  return createNat64Topology(tag);
}

export interface RunningGateway {
  readonly child: ChildProcess;
  /** Every line the gateway wrote to stderr (its JSON log). */
  readonly log: string[];
  readonly exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `nat64-gateway run ARGS` in the gateway namespace and routes the prefix and pool4 into its TUN. */
export async function startGateway(t: Topology, args: string[], tun = 'nat64'): Promise<RunningGateway> {
  const child = t.gateway.spawn('node', [GATEWAY_MAIN, 'run', '--tun', tun, ...args]);
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitForLine(child.stderr!, /nat64-gateway running/, 15_000, log);
  child.stderr!.on('data', (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean)));
  t.gateway.ip('-6', 'route', 'add', ADDRESSES.prefix, 'dev', tun);
  t.gateway.ip('route', 'add', `${ADDRESSES.pool4}/32`, 'dev', tun);
  return {
    child,
    log,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the gateway's CLI (sessions, stats) from this namespace; the control socket is a path. */
export function gatewayCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [GATEWAY_MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
