// The run step: the timers of a built receiver (build.ts). Once a second the engine ticks (idle
// entries, RELEASE retransmissions, retrying a failed store) and retention prunes the history past
// its period, one bounded transaction at a time between the commits. Sockets are the app's: it
// feeds datagrams to `receiver.handleDatagram` and sends what the engine gives its `send`.
import { Retention, type ConnStore } from '@nat64/conntrack';
import { Resources, type Counters, type Logger, type MicroClock } from '@nat64/service';
import type { BuiltReceiver } from './build.js';
import type { ReceiverCounterName } from './counters.js';

const TICK_MS = 1000;

export interface RunOptions {
  clock: MicroClock;
  logger: Logger;
  counters: Counters<ReceiverCounterName>;
  /** How long ended entries stay in the history; read at every pruning run (reloadable). */
  retentionMs(): number;
  /** Called every tick before the engine's (the app's systemd watchdog). */
  onTick?: (() => void) | undefined;
}

export interface RunningReceiver {
  /** Stops the timers, sends the ACKs held back, and waits for a pruning run under way. */
  stop(): Promise<void>;
  /** After stop() and once no datagram can arrive: commits what is pending and marks the log complete. */
  drain(): Promise<void>;
}

export function runReceiver(built: BuiltReceiver, options: RunOptions): RunningReceiver {
  const { receiver, table, store } = built;
  // Released in reverse: both timers cleared, then a pruning run under way is waited for.
  const timers = new Resources(options.logger);
  const retention = new Retention(table, { retention: () => options.retentionMs() * 1000, clock: options.clock });
  timers.add('history pruning', () => retention.stop());
  const ticker = setInterval(() => {
    options.onTick?.();
    receiver.tick();
  }, TICK_MS);
  timers.add('tick timer', () => clearInterval(ticker));
  const pruner = setInterval(historyPruner(retention, store, options.counters, options.logger), TICK_MS);
  timers.add('pruning timer', () => clearInterval(pruner));
  return {
    async stop() {
      receiver.stopDelayingAcks();
      await timers.stop();
    },
    async drain() {
      await receiver.flush();
      await receiver.settle();
      await receiver.markLogged();
    },
  };
}

/**
 * One tick of retention: starts a pruning run unless one is still going. A run deletes everything
 * past the retention period, one bounded transaction at a time between the commits.
 */
function historyPruner(retention: Retention, store: ConnStore, counters: Counters<ReceiverCounterName>, logger: Logger): () => void {
  let failing = false;
  let byCommitsSeen = store.prunedByCommits;
  return () => {
    if (retention.running) return;
    retention.run().then(
      ({ pruned, chunks }) => {
        failing = false;
        const byCommits = store.prunedByCommits - byCommitsSeen;
        byCommitsSeen += byCommits;
        if (pruned + byCommits === 0) return;
        counters.add('historyPruned', pruned + byCommits);
        logger.debug({ pruned, chunks, byCommits }, 'pruned history past the retention period');
      },
      (error: unknown) => {
        if (!failing) logger.error({ err: error }, 'pruning history failed; retrying every tick');
        failing = true;
      },
    );
  };
}
