// The local control socket: how `nat64-gateway sessions` or `nat64-receiver stats` talk to the
// running daemon, like `jool session display`. A Unix stream socket carrying JSON lines: the client
// writes one request `{"method": m, "params": {...}}`; the server answers `{"result": x}`, or for a
// long listing a stream of `{"item": x}` lines ended by `{"done": true}`, or `{"error": "why"}`.
import { chmodSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export type ControlParams = Record<string, unknown>;
/** A handler returns a JSON value, or an iterable of them for listings streamed item by item. */
export type ControlHandler = (params: ControlParams) => unknown;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 64 * 1024;

export async function listenControl(path: string, handlers: Record<string, ControlHandler>): Promise<ControlServer> {
  const server = createServer((socket) => serveConnection(socket, handlers));
  await listenReplacingStaleSocket(server, path);
  chmodSync(path, 0o660);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

async function listenReplacingStaleSocket(server: Server, path: string): Promise<void> {
  try {
    await listenOn(server, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (await isAlive(path)) throw new Error(`control socket ${path} is in use: is another instance running?`);
    unlinkSync(path);
    await listenOn(server, path);
  }
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function serveConnection(socket: Socket, handlers: Record<string, ControlHandler>): void {
  let buffered = 0;
  socket.on('error', () => socket.destroy());
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.length;
    if (buffered > MAX_REQUEST_BYTES) socket.destroy();
  });
  lines.once('line', (line) => {
    void answer(socket, line, handlers).finally(() => socket.end());
  });
}

async function answer(socket: Socket, line: string, handlers: Record<string, ControlHandler>): Promise<void> {
  let request: { method?: unknown; params?: unknown };
  try {
    request = JSON.parse(line) as typeof request;
  } catch {
    return send(socket, { error: 'request is not valid JSON' });
  }
  const method = typeof request.method === 'string' ? request.method : '';
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (!handler) return send(socket, { error: `unknown method "${method}"; known: ${Object.keys(handlers).join(', ')}` });
  const params = typeof request.params === 'object' && request.params !== null ? (request.params as ControlParams) : {};
  try {
    const result = await handler(params);
    if (isStream(result)) {
      for await (const item of result) await send(socket, { item });
      return send(socket, { done: true });
    }
    return send(socket, { result: result ?? null });
  } catch (error) {
    return send(socket, { error: error instanceof Error ? error.message : String(error) });
  }
}

function isStream(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

function send(socket: Socket, message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    if (socket.write(`${JSON.stringify(message)}\n`)) resolve();
    else socket.once('drain', () => resolve());
  });
}

export class ControlError extends Error {
  override name = 'ControlError';
}

/** Calls `method` and returns its result, or every streamed item as an array. */
export async function callControl(path: string, method: string, params: ControlParams = {}): Promise<unknown> {
  const items: unknown[] = [];
  let result: unknown;
  let streamed = false;
  for await (const message of exchange(path, method, params)) {
    if ('error' in message) throw new ControlError(String(message.error));
    if ('item' in message) {
      streamed = true;
      items.push(message.item);
    } else if ('result' in message) result = message.result;
  }
  return streamed ? items : result;
}

/** Calls a streaming method and yields its items as they arrive (for listings too big to buffer). */
export async function* streamControl(path: string, method: string, params: ControlParams = {}): AsyncGenerator<unknown> {
  for await (const message of exchange(path, method, params)) {
    if ('error' in message) throw new ControlError(String(message.error));
    if ('item' in message) yield message.item;
    else if ('result' in message) yield message.result;
  }
}

async function* exchange(path: string, method: string, params: ControlParams): AsyncGenerator<Record<string, unknown>> {
  const socket = createConnection(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ControlError(
          error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
            ? `cannot reach the daemon at ${path}: is it running? (${error.code})`
            : `cannot reach the daemon at ${path}: ${error.message}`,
        ),
      ),
    );
  });
  socket.write(`${JSON.stringify({ method, params })}\n`);
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    yield JSON.parse(line) as Record<string, unknown>;
  }
}
