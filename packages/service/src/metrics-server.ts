// The `--metrics` HTTP endpoint: GET /metrics answers the exposition page a daemon renders at that
// moment (metrics.ts); nothing else is served. Plain node:http on a loopback address by default,
// since the counters say much about the traffic and the page has no authentication.
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { ConfigError, type ConfigReader } from './config.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';

export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** Where `--metrics` listens when given only a port. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** "9464" (loopback), "0.0.0.0:9464", "192.0.2.1:9464" or "[::1]:9464". */
export function parseMetricsAddress(text: string, where: string): MetricsAddress {
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):)?(\d{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2] ?? DEFAULT_METRICS_HOST;
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65535 || isIP(host) === 0 || (match[1] !== undefined && isIP(host) !== 6)) {
    throw new ConfigError(where, `"${text}" is not ADDRESS:PORT or PORT, such as 127.0.0.1:9464, [::1]:9464 or 9464`);
  }
  return { host, port };
}

/** A config's optional metrics address setting: absent or empty means no metrics endpoint. */
export function readMetricsAddress(reader: ConfigReader, key: string): MetricsAddress | undefined {
  const text = reader.optionalString(key);
  return text === undefined || text === '' ? undefined : parseMetricsAddress(text, reader.path(key));
}

/** "127.0.0.1:9464", "[::1]:9464". */
export function formatMetricsAddress(address: MetricsAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface MetricsServer {
  /** The address it listens on (the port the kernel chose when asked for 0). */
  readonly address: MetricsAddress;
  close(): Promise<void>;
}

/** Listens on `address`; `render` is called once per scrape. Rejects when the address cannot be bound. */
export async function listenMetrics(address: MetricsAddress, render: () => string): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot render the metrics: ${(error as Error).message}\n`);
      return;
    }
    response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port;
  return {
    address: { host: address.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
