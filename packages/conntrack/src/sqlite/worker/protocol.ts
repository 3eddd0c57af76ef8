// The messages between a SqliteWorkerStore (on the table's thread) and its writer thread. They
// travel over a MessageChannel whose one end the worker receives at start. The writer answers every
// request, in request order, with exactly one final response (a load sends chunks before it); after
// posting one it bumps a counter in shared memory and wakes waiters, so the table's thread can block
// for an answer (Atomics.wait, then receiveMessageOnPort) where the ConnStore contract is synchronous.
import type { MessagePort } from 'node:worker_threads';
import { StoreError, type StoreErrorCode } from '../../errors.js';
import type { HistoryQuery } from '../../types.js';
import type { SqliteStoreOptions } from '../connection.js';

/** workerData of the writer thread. */
export interface WriterInit {
  path: string;
  options: SqliteStoreOptions;
  port: MessagePort;
  /** Int32 slots, see Signal. */
  signal: SharedArrayBuffer;
}

/** Slots of the shared signal array. */
export const Signal = {
  /** Responses posted so far; waiters sleep on this slot. */
  responses: 0,
  /** 1 once the writer thread is exiting. */
  exited: 1,
  slots: 2,
} as const;

/** The id of the writer's first message: ready, or why it could not open the store. */
export const READY_ID = 0;

export type Request =
  /**
   * One encoded batch (batch-codec.ts) in the first `length` bytes of `bytes`, transferred; the
   * answer transfers `bytes` back for reuse. `contained`: the caller blocks for this answer, so
   * nothing can be queued behind it and its failure need not fail the store. Answered with the
   * number of ended incarnations the commit deleted under the retention bound.
   */
  | { op: 'commit'; id: number; bytes: ArrayBuffer; length: number; contained: boolean }
  /** The open incarnations: chunks of created events (at = startedAt), then an empty answer. */
  | { op: 'load'; id: number }
  | { op: 'getSide'; id: number; name: string }
  | { op: 'listSide'; id: number; prefix: string }
  | { op: 'history'; id: number; query: HistoryQuery }
  | { op: 'endedAt'; id: number; at: number }
  | { op: 'prune'; id: number; before: number; limit: number }
  | { op: 'retain'; id: number; before: number }
  /** Reopens the connection under the same lock and clears the failed state. */
  | { op: 'recover'; id: number }
  | { op: 'close'; id: number };

/** A request as the store builds it, before it has an id. */
export type RequestBody = WithoutId<Request>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type Response =
  | { id: number; ok: true; value?: unknown; bytes?: ArrayBuffer }
  | { id: number; ok: false; error: ErrorData; bytes?: ArrayBuffer }
  /** Part of a load answer. */
  | { id: number; chunk: ArrayBuffer };

/** A StoreError as it crosses the thread boundary (a structured clone would drop `code` and `path`). */
export interface ErrorData {
  code: StoreErrorCode;
  message: string;
  path: string | undefined;
}

export function toErrorData(error: StoreError): ErrorData {
  return { code: error.code, message: error.message, path: error.path };
}

export function fromErrorData(data: ErrorData): StoreError {
  return new StoreError(data.code, data.message, data.path);
}
