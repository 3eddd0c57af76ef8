// Keeps a table's history within its retention period. Each run moves the store's retention bound
// (ConnStore.retain) to now minus the period, so that every commit from then on deletes up to twice
// as many expired rows as it has events, in its own transaction: pruning keeps pace with any ingest
// rate by construction. The run itself then deletes what the commits have not (a backlog, or the
// history of an idle receiver) in transactions of a bounded number of rows, until one comes back
// short. On a PipelinedConnStore each of those takes its turn behind the commits queued before it,
// so a commit never waits for more than one of them.
import type { ConnTable } from './conn-table.js';
import { RetentionDefault } from './constants.js';

export interface RetentionOptions {
  /** How long an ended incarnation stays, µs; a function is asked at each run (a reloadable setting). */
  retention: number | (() => number);
  /** Rows per transaction. Default RetentionDefault.chunkRows. */
  chunkRows?: number;
  /** Receiver time, µs since the Unix epoch (the table's clock). */
  clock: () => number;
}

/** What one run did itself (rows the commits deleted under the bound are not counted). */
export interface RetentionRun {
  pruned: number;
  chunks: number;
}

/**
 * Prunes a ConnTable's history. The owner calls run() on its timer (a call while a run is going
 * returns that run) and stop() before it closes the table. A run rejects with the StoreError of the chunk that failed (earlier chunks stay
 * deleted); the next call starts afresh.
 */
export class Retention {
  private current: Promise<RetentionRun> | undefined;
  private stopped = false;
  private readonly chunkRows: number;

  constructor(
    private readonly table: ConnTable,
    private readonly options: RetentionOptions,
  ) {
    this.chunkRows = options.chunkRows ?? RetentionDefault.chunkRows;
    if (typeof options.retention === 'number' && !(options.retention >= 0)) throw new RangeError('retention must be a non-negative number of µs');
    if (!Number.isSafeInteger(this.chunkRows) || this.chunkRows < 1) throw new RangeError('chunkRows must be a positive integer');
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  run(): Promise<RetentionRun> {
    if (this.stopped) return Promise.resolve({ pruned: 0, chunks: 0 });
    this.current ??= this.prune().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /** Ends the run in progress after its current chunk and starts no more; resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.catch(() => undefined);
  }

  private async prune(): Promise<RetentionRun> {
    const period = typeof this.options.retention === 'number' ? this.options.retention : this.options.retention();
    const before = this.options.clock() - period;
    this.table.retain(before);
    const done: RetentionRun = { pruned: 0, chunks: 0 };
    while (!this.stopped) {
      const pruned = await this.table.prunePipelined(before, this.chunkRows);
      done.pruned += pruned;
      done.chunks++;
      if (pruned < this.chunkRows) break;
    }
    return done;
  }
}
