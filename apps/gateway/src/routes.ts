// The routes that bring traffic to the gateway: the prefix and every pool4 address into its TUN
// device. With `routes` on, the gateway adds them once the device is up, adds them again whenever the
// link comes back up (the kernel drops a device's routes when it goes down), and removes them on
// exit. With it off, it asks the kernel where each destination goes (`ip route get`) and warns about
// the ones that do not reach the device: such packets never arrive, and nothing else would say so.
// Everything goes through iproute2's `ip` with JSON output, like an operator would type it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@nat64/service';

/** A destination routed into the device: the prefix (IPv6) or a pool4 address (IPv4, /32). */
export interface GatewayRoute {
  readonly family: 4 | 6;
  /** "2001:db8:64::/96", "198.51.100.1/32". */
  readonly destination: string;
}

export function gatewayRoutes(prefix: string, pool4: readonly string[]): GatewayRoute[] {
  return [{ family: 6, destination: prefix }, ...pool4.map((address) => ({ family: 4 as const, destination: `${address}/32` }))];
}

/** `ip ARGS`, resolving with stdout; rejects with ip's own message. */
export type IpCommand = (args: readonly string[]) => Promise<string>;

export const runIp: IpCommand = (args) =>
  new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(stderr.trim() || error.message));
    });
  });

/** Adds (or replaces) every route into `device`. Rejects with the first route the kernel refused. */
export async function addRoutes(device: string, routes: readonly GatewayRoute[], ip: IpCommand = runIp): Promise<void> {
  for (const route of routes) {
    try {
      await ip([`-${route.family}`, 'route', 'replace', route.destination, 'dev', device]);
    } catch (error) {
      throw new Error(`cannot route ${route.destination} into ${device}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Removes the routes into `device`; a route already gone (the device went away) is no error. */
export async function removeRoutes(device: string, routes: readonly GatewayRoute[], logger: Logger, ip: IpCommand = runIp): Promise<void> {
  for (const route of routes) {
    try {
      await ip([`-${route.family}`, 'route', 'del', route.destination, 'dev', device]);
    } catch (error) {
      logger.debug({ route: route.destination, err: error }, 'route already gone');
    }
  }
}

/** What the kernel does with a destination, from `ip -j route get`: its device, or why it has none. */
export async function routeDevice(
  address: string,
  family: 4 | 6,
  ip: IpCommand = runIp,
): Promise<{ device: string | undefined; type: string | undefined } | { error: string }> {
  try {
    const answer = JSON.parse(await ip(['-j', `-${family}`, 'route', 'get', address])) as Array<{ dev?: string; type?: string }>;
    return { device: answer[0]?.dev, type: answer[0]?.type };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Warns, one line each, about the destinations the kernel does not send into `device`; resolves with
 * them. A pool4 address is asked as it is, the prefix by its first address.
 */
export async function warnUnroutedDestinations(device: string, routes: readonly GatewayRoute[], logger: Logger, ip: IpCommand = runIp): Promise<string[]> {
  const unrouted: string[] = [];
  for (const route of routes) {
    const address = route.destination.split('/')[0]!;
    const found = await routeDevice(address, route.family, ip);
    if ('device' in found && found.device === device && found.type !== 'local') continue;
    unrouted.push(route.destination);
    const goes =
      'error' in found
        ? `the kernel has no route for it (${found.error})`
        : `the kernel routes it ${found.type === 'local' ? 'to this host itself' : `via ${found.device ?? 'nowhere'}`}`;
    logger.warn(
      { destination: route.destination, tun: device, fix: `ip -${route.family} route add ${route.destination} dev ${device}` },
      `${route.destination} is not routed into ${device}: ${goes}, so its packets never reach the gateway (or run with --routes)`,
    );
  }
  return unrouted;
}

/**
 * Keeps the routes into `device` while the gateway runs: adds them at start, again each time the
 * link comes up (watching `ip -o monitor link`), and removes them at stop.
 */
export class RouteKeeper {
  private monitor: ChildProcess | undefined;
  private pending: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly device: string,
    private readonly routes: readonly GatewayRoute[],
    private readonly logger: Logger,
    private readonly ip: IpCommand = runIp,
  ) {}

  /** Adds the routes and starts watching the link; rejects when the kernel refuses a route. */
  async start(): Promise<void> {
    await addRoutes(this.device, this.routes, this.ip);
    this.logger.info({ tun: this.device, routes: this.routes.map((route) => route.destination) }, `routed the prefix and pool4 into ${this.device}`);
    this.watch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.monitor?.kill();
    this.monitor = undefined;
    await this.pending;
    await removeRoutes(this.device, this.routes, this.logger, this.ip);
  }

  private watch(): void {
    const monitor = spawn('ip', ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.monitor = monitor;
    monitor.on('error', (error) => this.logger.warn({ err: error }, 'cannot watch the link (ip monitor): routes are not added again if it goes down and up'));
    const marker = `: ${this.device}:`;
    createInterface({ input: monitor.stdout! }).on('line', (line) => {
      if (this.stopped || line.startsWith('Deleted') || !line.includes(marker)) return;
      const flags = /<([^>]*)>/.exec(line)?.[1]?.split(',') ?? [];
      if (flags.includes('UP')) this.readd();
    });
  }

  private readd(): void {
    this.pending = this.pending.then(async () => {
      if (this.stopped) return;
      try {
        await addRoutes(this.device, this.routes, this.ip);
        this.logger.info({ tun: this.device }, `${this.device} is up: routes added again`);
      } catch (error) {
        this.logger.warn({ err: error }, `${this.device} is up but its routes could not be added again`);
      }
    });
  }
}
