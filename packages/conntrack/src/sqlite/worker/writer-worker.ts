// The writer thread of a SqliteWorkerStore. It owns the SqliteStore (the connection and the writer
// lock) and serves the requests of protocol.ts in arrival order. Pipelined commits that wait for it
// together are stored in one transaction (group commit: one WAL append and one fsync for all), and
// each is answered once that transaction is durable; if it fails, they are stored one by one, so
// that exactly the batches before the failing one stand, as without grouping. After a commit that
// the table's thread did not wait for fails, it refuses every later commit and prune with that same
// failure until a recover request: batches queued behind a lost one may build on it (delete what it
// created), so none of them may reach the file.
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { WorkerTuning } from '../../constants.js';
import { asStoreError } from '../../errors.js';
import type { ConnEvent } from '../../types.js';
import { encode, encodingLength } from '../batch-codec.js';
import { SqliteStore } from '../sqlite-store.js';
import { READY_ID, Signal, toErrorData, type ErrorData, type Request, type Response, type WriterInit } from './protocol.js';

const { path, options, port, signal } = workerData as WriterInit;
const signals = new Int32Array(signal);

function post(response: Response, transfer: ArrayBuffer[] = []): void {
  port.postMessage(response, transfer);
  Atomics.add(signals, Signal.responses, 1);
  Atomics.notify(signals, Signal.responses);
}

// Wakes a table thread blocked on an answer that will now never come.
process.on('exit', () => {
  Atomics.store(signals, Signal.exited, 1);
  Atomics.add(signals, Signal.responses, 1);
  Atomics.notify(signals, Signal.responses);
});

class Writer {
  private failure: ErrorData | undefined;
  closed = false;

  constructor(private readonly store: SqliteStore) {}

  /** Pipelined commits, in arrival order, stored in one transaction when there are several. */
  commitGroup(group: readonly CommitRequest[]): void {
    if (group.length === 1 || this.failure !== undefined) {
      for (const request of group) this.handle(request);
      return;
    }
    const batches = group.map((request) => new Uint8Array(request.bytes, 0, request.length));
    const pruned: number[] = [];
    try {
      this.store.commitEncodedGroup(batches, pruned);
    } catch {
      // Nothing of the group is stored: one by one, the batches before the failing one stand.
      for (const request of group) this.handle(request);
      return;
    }
    for (const [index, request] of group.entries()) post({ id: request.id, ok: true, value: pruned[index], bytes: request.bytes }, [request.bytes]);
  }

  handle(request: Request): void {
    try {
      this.serve(request);
    } catch (error) {
      post({ id: request.id, ok: false, error: toErrorData(asStoreError(error, 'writer thread')) });
    }
  }

  private serve(request: Request): void {
    const { id } = request;
    switch (request.op) {
      case 'commit': {
        const returned = [request.bytes];
        if (this.failure !== undefined) return post({ id, ok: false, error: this.failure, bytes: request.bytes }, returned);
        let pruned: number;
        try {
          pruned = this.store.commitEncoded(new Uint8Array(request.bytes, 0, request.length));
        } catch (error) {
          const data = toErrorData(asStoreError(error, 'commit failed'));
          if (!request.contained) this.failure = data;
          return post({ id, ok: false, error: data, bytes: request.bytes }, returned);
        }
        return post({ id, ok: true, value: pruned, bytes: request.bytes }, returned);
      }
      case 'load':
        return this.load(id);
      case 'getSide':
        return post({ id, ok: true, value: this.store.getSide(request.name) });
      case 'listSide':
        return post({ id, ok: true, value: this.store.listSide(request.prefix) });
      case 'history':
        return post({ id, ok: true, value: this.store.history(request.query) });
      case 'endedAt':
        return post({ id, ok: true, value: this.store.endedAt(request.at) });
      case 'prune':
        if (this.failure !== undefined) return post({ id, ok: false, error: this.failure });
        return post({ id, ok: true, value: this.store.prune(request.before, request.limit) });
      case 'retain':
        this.store.retain(request.before);
        return post({ id, ok: true });
      case 'recover':
        try {
          this.store.reconnect();
        } catch (error) {
          this.failure = toErrorData(asStoreError(error, 'reconnect failed'));
          throw error;
        }
        this.failure = undefined;
        return post({ id, ok: true });
      case 'close':
        this.closed = true;
        this.store.close();
        return post({ id, ok: true });
    }
  }

  /** Sends the open incarnations as batches of created events whose `at` is the start time. */
  private load(id: number): void {
    const events: ConnEvent[] = [];
    const flush = () => {
      const batch = { events, side: [] };
      const bytes = new Uint8Array(encodingLength(batch));
      encode(batch, bytes, 0);
      post({ id, chunk: bytes.buffer }, [bytes.buffer]);
      events.length = 0;
    };
    for (const { startedAt, ...entry } of this.store.loadCurrent()) {
      events.push({ kind: 'created', entry, at: startedAt });
      if (events.length === WorkerTuning.loadChunkEntries) flush();
    }
    if (events.length > 0) flush();
    post({ id, ok: true });
  }
}

type CommitRequest = Extract<Request, { op: 'commit' }>;

function isPipelinedCommit(request: Request): request is CommitRequest {
  return request.op === 'commit' && !request.contained;
}

function main(): void {
  let store: SqliteStore;
  try {
    store = SqliteStore.open(path, options);
  } catch (error) {
    // Nothing listens on the port, so the thread ends after this.
    post({ id: READY_ID, ok: false, error: toErrorData(asStoreError(error, 'open failed')) });
    return;
  }
  const writer = new Writer(store);
  post({ id: READY_ID, ok: true });
  const next = () => (writer.closed ? undefined : (receiveMessageOnPort(port)?.message as Request | undefined));
  port.on('message', (first: Request) => {
    // Serve everything already queued in one go rather than one request per event-loop turn.
    for (let request: Request | undefined = first; request !== undefined && !writer.closed; ) {
      if (!isPipelinedCommit(request)) {
        writer.handle(request);
        request = next();
        continue;
      }
      const group: CommitRequest[] = [request];
      request = next();
      while (request !== undefined && isPipelinedCommit(request) && group.length < WorkerTuning.groupCommits) {
        group.push(request);
        request = next();
      }
      writer.commitGroup(group);
    }
    // Without a ref'd port the thread ends on its own once the store is closed.
    if (writer.closed) port.unref();
  });
}

main();
