// A deliberately naive reference model of the table semantics (arrays and linear scans), for
// property tests that compare the real table with it step by step.
import type { ConnEntry, ConnOperation, DeleteReason } from '@nat64/conntrack';

interface Held {
  entry: ConnEntry;
  lastUsed: number;
  row: ModelRow;
}

export interface ModelRow {
  entry: ConnEntry;
  startedAt: number;
  endedAt: number | null;
  endReason: DeleteReason | null;
}

const sameKey = (a: ConnEntry, b: ConnEntry) => a.protocol === b.protocol && a.natAddress === b.natAddress && a.natPort === b.natPort;
const sameClient = (a: ConnEntry, b: ConnEntry) => a.clientPort === b.clientPort && a.clientAddress.every((byte, i) => byte === b.clientAddress[i]);

export class TableModel {
  /** Least recently used first. */
  held: Held[] = [];
  /** Every incarnation in commit order. */
  rows: ModelRow[] = [];
  private lastAt: number;

  /** `openedAt`: the clock when the table opened (the table reads it then). */
  constructor(
    private readonly capacity: number,
    private readonly idleTimeout: number,
    openedAt: number,
  ) {
    this.lastAt = openedAt;
  }

  /** Applies a batch; when `fail`, only the clock high-water mark moves. Returns events in brief form. */
  apply(operations: readonly ConnOperation[], time: number, fail: boolean): string[] {
    const at = this.now(time);
    if (fail) return [];
    const events: string[] = [];
    for (const operation of operations) {
      const entry = operation.entry;
      const index = this.held.findIndex((held) => sameKey(held.entry, entry));
      const found = this.held[index];
      if (operation.op === 'delete') {
        if (found && sameClient(found.entry, entry)) this.remove(index, operation.reason, at, events);
        continue;
      }
      if (found && sameClient(found.entry, entry)) {
        this.held.splice(index, 1);
        this.held.push({ ...found, lastUsed: at });
        continue;
      }
      if (found) this.remove(index, 'replaced', at, events);
      else while (this.held.length >= this.capacity) this.remove(0, 'evicted', at, events);
      const row: ModelRow = { entry, startedAt: at, endedAt: null, endReason: null };
      this.rows.push(row);
      this.held.push({ entry, lastUsed: at, row });
      events.push(`created ${entry.protocol}/${entry.natPort} by ${entry.clientAddress[15]}`);
    }
    return events;
  }

  touch(protocol: number, natPort: number, time: number): boolean {
    const index = this.held.findIndex((held) => held.entry.protocol === protocol && held.entry.natPort === natPort);
    const found = this.held[index];
    if (!found) return false;
    this.held.splice(index, 1);
    this.held.push({ ...found, lastUsed: this.now(time) });
    return true;
  }

  /** Whether expireIdle at `time` would end anything (it writes nothing when it would not). */
  wouldExpire(time: number): boolean {
    const first = this.held[0];
    return first !== undefined && Math.max(time, this.lastAt) - first.lastUsed > this.idleTimeout;
  }

  expireIdle(limit: number, time: number, fail: boolean): string[] {
    const at = this.now(time);
    if (fail) return [];
    const events: string[] = [];
    while (events.length < limit && this.held[0] && at - this.held[0].lastUsed > this.idleTimeout) {
      this.remove(0, 'idle', at, events);
    }
    return events;
  }

  /** What reopening does: held entries in start order (commit order on ties), all used at `time`. */
  reload(time: number): void {
    const at = this.now(time);
    this.held = this.held
      .sort((a, b) => a.row.startedAt - b.row.startedAt || this.rows.indexOf(a.row) - this.rows.indexOf(b.row))
      .map((held) => ({ ...held, lastUsed: at }));
  }

  private remove(index: number, reason: DeleteReason, at: number, events: string[]): void {
    const [gone] = this.held.splice(index, 1);
    gone!.row.endedAt = at;
    gone!.row.endReason = reason;
    events.push(`deleted(${reason}) ${gone!.entry.protocol}/${gone!.entry.natPort} by ${gone!.entry.clientAddress[15]}`);
  }

  private now(time: number): number {
    this.lastAt = Math.max(this.lastAt, time);
    return this.lastAt;
  }
}
