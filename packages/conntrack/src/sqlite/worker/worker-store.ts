// The table's side of a store whose SQLite connection lives on a writer thread (writer-worker.ts).
// A batch is encoded here once into a transferable buffer (batch-codec.ts), handed over without
// copying, and committed there while this thread goes on; the buffer comes back for reuse. Calls
// that the ConnStore contract makes synchronous block this thread until the writer answers them.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { WorkerTuning } from '../../constants.js';
import { StoreError } from '../../errors.js';
import type { PipelinedConnStore } from '../../store.js';
import type { ConnEvent, HistoryQuery, HistoryRecord, SideRecord, StoredEntry } from '../../types.js';
import type { EventRecords } from '../../event-records.js';
import { decode, encode, encodeRecords, encodingLength, recordsEncodingLength } from '../batch-codec.js';
import { connectionSettings, type Durability, type SqliteStoreOptions } from '../connection.js';
import { READY_ID, Signal, fromErrorData, type Request, type RequestBody, type Response, type WriterInit } from './protocol.js';

/** A request awaiting its final answer. */
interface Pending {
  id: number;
  op: Request['op'];
  /** A commit whose caller blocks for the answer. */
  contained: boolean;
  /** Load chunks received so far. */
  chunks: ArrayBuffer[] | undefined;
  settled: boolean;
  value: unknown;
  error: StoreError | undefined;
  resolve: ((value: unknown) => void) | undefined;
  reject: ((error: StoreError) => void) | undefined;
}

const ignore = () => {};

/**
 * A SqliteStore on a writer thread: open with SqliteStore.openInWorker(path, options). The thread
 * owns the connection and the writer lock for the store's whole life, so the single-writer
 * guarantees of SqliteStore.open hold unchanged (another process, or another open in this one,
 * gets `locked`).
 *
 * Pipelined commits follow PipelinedConnStore. The synchronous ConnStore methods (loadCurrent,
 * commit, getSide, listSide, history, endedAt, prune, close; not retain, which is queued) block the
 * calling thread until the writer has served everything queued before them and then them: a read
 * sees every batch queued before it. Fine at startup and for occasional queries; on the hot path use commitPipelined.
 *
 * The store keeps the process alive only while something is queued: once idle, it does not hold
 * the event loop open. closeAsync() keeps it open until the thread has ended.
 */
export class SqliteWorkerStore implements PipelinedConnStore {
  private readonly signals: Int32Array;
  /** Requests sent and not yet answered, in send order (the writer answers in that order). */
  private readonly queue: Pending[] = [];
  private readonly pool: ArrayBuffer[] = [];
  private readonly exited: Promise<void>;
  private nextId = READY_ID + 1;
  private failed: StoreError | undefined;
  /** Set when the writer thread ended without being closed. */
  private gone: StoreError | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private pruned = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    signal: SharedArrayBuffer,
    readonly path: string,
    readonly durability: Durability,
  ) {
    this.signals = new Int32Array(signal);
    port.on('message', (message: Response) => this.dispatch(message));
    port.unref();
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('error', (error) => this.lose(`failed: ${error.message}`));
    worker.on('exit', (code) => this.lose(`exited with code ${code}`));
  }

  /** See SqliteStore.openInWorker. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteWorkerStore> {
    const { durability, busyTimeoutMs, cacheKiB, maxBytes } = connectionSettings(options);
    const script = writerScript();
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(Signal.slots * Int32Array.BYTES_PER_ELEMENT);
    const init: WriterInit = {
      path,
      options: { durability, busyTimeoutMs, cacheKiB, ...(maxBytes === undefined ? {} : { maxBytes }) },
      port: port2,
      signal,
    };
    const worker = new Worker(script, { workerData: init, transferList: [port2] });
    worker.unref();
    try {
      await ready(worker, port1, path);
    } catch (error) {
      port1.close();
      await worker.terminate();
      throw error;
    }
    return new SqliteWorkerStore(worker, port1, signal, path, durability);
  }

  get prunedByCommits(): number {
    return this.pruned;
  }

  get failure(): StoreError | undefined {
    return this.failed;
  }

  commitPipelined(events: readonly ConnEvent[], side: readonly SideRecord[]): Promise<void> {
    return this.queueCommit(() => this.encodeBatch(events, side));
  }

  commitRecordsPipelined(events: EventRecords, side: readonly SideRecord[]): Promise<void> {
    return this.queueCommit(() => {
      const length = recordsEncodingLength(events, side);
      const buffer = this.takeBuffer(length);
      encodeRecords(events, side, new Uint8Array(buffer, 0, length), 0);
      return { buffer, length };
    });
  }

  private queueCommit(encodeBatch: () => { buffer: ArrayBuffer; length: number }): Promise<void> {
    this.ensureOpen();
    if (this.failed !== undefined) {
      const rejected = Promise.reject(this.failed);
      rejected.catch(ignore);
      return rejected;
    }
    const { buffer, length } = encodeBatch();
    const pending = this.send({ op: 'commit', bytes: buffer, length, contained: false }, [buffer]);
    const durable = new Promise<void>((resolve, reject) => {
      pending.resolve = () => resolve();
      pending.reject = reject;
    });
    durable.catch(ignore);
    return durable;
  }

  prunePipelined(before: number, limit: number): Promise<number> {
    try {
      this.ensureOpen();
      if (this.gone !== undefined) throw this.gone;
      if (this.failed !== undefined) throw this.failed;
    } catch (error) {
      return Promise.reject(error);
    }
    const pending = this.send({ op: 'prune', before, limit });
    return new Promise<number>((resolve, reject) => {
      pending.resolve = (value) => resolve(value as number);
      pending.reject = reject;
    });
  }

  /** Queued like a commit, without waiting: it applies to the commits queued after it. */
  retain(before: number): void {
    this.ensureOpen();
    if (this.gone !== undefined) throw this.gone;
    this.send({ op: 'retain', before });
  }

  commit(events: readonly ConnEvent[], side: readonly SideRecord[]): void {
    this.ensureOpen();
    if (this.failed !== undefined) throw this.failed;
    const { buffer, length } = this.encodeBatch(events, side);
    this.call({ op: 'commit', bytes: buffer, length, contained: true }, [buffer]);
  }

  *loadCurrent(): Iterable<StoredEntry> {
    const chunks = this.call({ op: 'load' }) as ArrayBuffer[];
    for (const chunk of chunks) {
      for (const event of decode(new Uint8Array(chunk)).events) yield { ...event.entry, startedAt: event.at };
    }
  }

  getSide(name: string): Uint8Array | null {
    return this.call({ op: 'getSide', name }) as Uint8Array | null;
  }

  listSide(prefix: string): Array<[name: string, value: Uint8Array]> {
    return this.call({ op: 'listSide', prefix }) as Array<[string, Uint8Array]>;
  }

  history(query: HistoryQuery): HistoryRecord[] {
    return this.call({ op: 'history', query }) as HistoryRecord[];
  }

  endedAt(at: number): HistoryRecord[] {
    return this.call({ op: 'endedAt', at }) as HistoryRecord[];
  }

  prune(before: number, limit = Infinity): number {
    this.ensureOpen();
    if (this.failed !== undefined) throw this.failed;
    return this.call({ op: 'prune', before, limit }) as number;
  }

  recover(): Promise<void> {
    try {
      this.ensureOpen();
      if (this.gone !== undefined) throw this.gone;
    } catch (error) {
      return Promise.reject(error);
    }
    const pending = this.send({ op: 'recover' });
    return new Promise<void>((resolve, reject) => {
      pending.resolve = () => resolve();
      pending.reject = reject;
    });
  }

  close(): void {
    if (this.closed || this.closing !== undefined) return;
    try {
      if (this.gone === undefined) this.call({ op: 'close' });
    } finally {
      this.closed = true;
      this.port.close();
    }
  }

  closeAsync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closing ??= (async () => {
      // Held until the thread has ended, so the caller's continuation runs even in an idle process.
      this.worker.ref();
      try {
        if (this.gone === undefined) {
          const pending = this.send({ op: 'close' });
          await new Promise<void>((resolve, reject) => {
            pending.resolve = () => resolve();
            pending.reject = reject;
          });
        }
      } finally {
        this.closed = true;
        this.port.close();
        await this.exited;
      }
    })();
    return this.closing;
  }

  /** Sends a request and blocks until it is answered; returns its value or throws its error. */
  private call(body: RequestBody, transfer: ArrayBuffer[] = []): unknown {
    this.ensureOpen();
    if (this.gone !== undefined) throw this.gone;
    const pending = this.send(body, transfer);
    while (!pending.settled) {
      // Read the counter before draining: a response posted after the drain bumps it past `seen`.
      const seen = Atomics.load(this.signals, Signal.responses);
      for (let received = receiveMessageOnPort(this.port); received !== undefined; received = receiveMessageOnPort(this.port)) {
        this.dispatch(received.message as Response);
      }
      if (pending.settled) break;
      if (Atomics.load(this.signals, Signal.exited) === 1) this.lose('exited');
      else Atomics.wait(this.signals, Signal.responses, seen, WorkerTuning.waitSliceMs);
    }
    if (pending.error !== undefined) throw pending.error;
    return pending.value;
  }

  private send(body: RequestBody, transfer: ArrayBuffer[] = []): Pending {
    const pending: Pending = {
      id: this.nextId++,
      op: body.op,
      contained: body.op === 'commit' && body.contained,
      chunks: body.op === 'load' ? [] : undefined,
      settled: false,
      value: undefined,
      error: undefined,
      resolve: undefined,
      reject: undefined,
    };
    this.port.postMessage({ ...body, id: pending.id }, transfer);
    if (this.queue.length === 0) this.port.ref();
    this.queue.push(pending);
    return pending;
  }

  /** Handles one answer of the writer: answers come in request order. */
  private dispatch(message: Response): void {
    const head = this.queue[0];
    if (head === undefined || head.id !== message.id) return;
    if ('chunk' in message) {
      head.chunks!.push(message.chunk);
      return;
    }
    this.queue.shift();
    if (this.queue.length === 0) this.port.unref();
    if (message.bytes !== undefined) this.recycle(message.bytes);
    if (message.ok) {
      if (head.op === 'commit') this.pruned += message.value as number;
      if (head.op === 'recover' && this.gone === undefined) this.failed = undefined;
      this.settle(head, head.chunks ?? message.value, undefined);
      return;
    }
    let error = fromErrorData(message.error);
    if (head.op === 'commit' || head.op === 'prune' || head.op === 'recover') {
      // The first failure of a pipelined commit fails the store; what the writer refused because of
      // it reports that same error. A contained commit fails alone (its caller undoes it).
      if (this.failed !== undefined && head.op !== 'recover') error = this.failed;
      else if ((head.op === 'commit' && !head.contained) || head.op === 'recover') this.failed = error;
    }
    this.settle(head, undefined, error);
  }

  private settle(pending: Pending, value: unknown, error: StoreError | undefined): void {
    pending.settled = true;
    pending.value = value;
    pending.error = error;
    if (error === undefined) pending.resolve?.(value);
    else pending.reject?.(error);
  }

  /** The writer thread ended without close: everything waiting fails, and so does every later call. */
  private lose(how: string): void {
    if (this.gone !== undefined || this.closed || this.closing !== undefined) return;
    this.gone = new StoreError('io', `The writer thread of ${this.path} ${how}`, this.path);
    this.failed ??= this.gone;
    for (const pending of this.queue.splice(0)) this.settle(pending, undefined, this.gone);
    this.port.unref();
  }

  private encodeBatch(events: readonly ConnEvent[], side: readonly SideRecord[]): { buffer: ArrayBuffer; length: number } {
    const batch = { events, side };
    const length = encodingLength(batch);
    const buffer = this.takeBuffer(length);
    try {
      encode(batch, new Uint8Array(buffer, 0, length), 0);
    } catch (error) {
      this.recycle(buffer);
      throw error;
    }
    return { buffer, length };
  }

  private takeBuffer(length: number): ArrayBuffer {
    const pool = this.pool;
    for (let i = pool.length - 1; i >= 0; i--) {
      const buffer = pool[i]!;
      if (buffer.byteLength >= length) {
        pool[i] = pool[pool.length - 1]!;
        pool.pop();
        return buffer;
      }
    }
    return new ArrayBuffer(Math.max(WorkerTuning.minBufferBytes, 2 ** Math.ceil(Math.log2(length))));
  }

  private recycle(buffer: ArrayBuffer): void {
    if (this.pool.length < WorkerTuning.bufferPool) this.pool.push(buffer);
  }

  private ensureOpen(): void {
    if (this.closed || this.closing !== undefined) throw new StoreError('closed', `store ${this.path} is closed`, this.path);
  }
}

/** Resolves once the writer has opened the store; rejects with its StoreError otherwise. */
function ready(worker: Worker, port: MessagePort, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const answered = (message: Response) => {
      stop();
      if ('ok' in message && message.ok) resolve();
      else reject('error' in message ? fromErrorData(message.error) : new StoreError('io', `Cannot open ${path} (writer thread answered out of turn)`, path));
    };
    const failed = (error: Error) => {
      stop();
      reject(new StoreError('io', `Cannot open ${path} (writer thread failed: ${error.message})`, path, { cause: error }));
    };
    const exited = (code: number) => {
      // Its answer may still be queued behind the exit notice.
      const last = receiveMessageOnPort(port);
      if (last !== undefined) return answered(last.message as Response);
      stop();
      reject(new StoreError('io', `Cannot open ${path} (writer thread exited with code ${code})`, path));
    };
    const stop = () => {
      port.off('message', answered);
      worker.off('error', failed);
      worker.off('exit', exited);
    };
    port.on('message', answered);
    worker.on('error', failed);
    worker.on('exit', exited);
  });
}

/**
 * The writer thread's script. Node 20 cannot run TypeScript in a worker thread, so when this module
 * runs from source (under vitest) the thread runs the build, which must then be current.
 */
function writerScript(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = new URL(fromSource ? '../../../dist/sqlite/worker/writer-worker.js' : './writer-worker.js', import.meta.url);
  if (!existsSync(script)) {
    throw new StoreError('io', `The writer thread's script ${fileURLToPath(script)} is missing: build @nat64/conntrack`);
  }
  return script;
}
