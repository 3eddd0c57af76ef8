// Session events for whoever needs to follow the connection table (the handoff sender, the session
// log): one Nat64Table listener that fans out to any number of subscribers, built on the table's own
// synchronous events, so nothing is allocated per event. The fan-out is where a subscriber's failure
// stops: what one throws is caught and counted there, so it reaches neither the other subscribers
// nor the table's operation under way nor the packet that caused it.

import type { DeleteReason, Nat64Listener, Nat64Table } from '@nat64/nat64';

/**
 * What a subscriber hears. Every method is optional and synchronous; handles are valid only during
 * the call, so read what you need through `table` (serverAddress(h) says toward which IPv4 host, natPort,
 * clientPort, copyClientAddress, ...) before returning, and do not change the table from inside a call.
 * An eviction is a deletion with reason DELETE_REASON.EVICTED.
 */
export interface SessionSubscriber {
  sessionCreated?(table: Nat64Table, session: number): void;
  sessionDeleted?(table: Nat64Table, session: number, reason: DeleteReason): void;
  bibCreated?(table: Nat64Table, bib: number): void;
  bibDeleted?(table: Nat64Table, bib: number, reason: DeleteReason): void;
  /** RFC 6146 3.5.2.2: an idle established TCP session moved to TRANS; a probe may be sent. */
  tcpProbe?(table: Nat64Table, session: number): void;
  /**
   * What one of the methods above threw, after the fan-out caught and counted it (SessionEvents.errors):
   * the place to count and log it as the subscriber's own. What this throws in turn is dropped.
   */
  failed?(error: unknown): void;
}

type Lists = 'created' | 'deleted' | 'bibsCreated' | 'bibsDeleted' | 'probes';

const LISTS: readonly (readonly [keyof SessionSubscriber, Lists])[] = [
  ['sessionCreated', 'created'],
  ['sessionDeleted', 'deleted'],
  ['bibCreated', 'bibsCreated'],
  ['bibDeleted', 'bibsDeleted'],
  ['tcpProbe', 'probes'],
];

/** One event delivered to one subscriber: `handle` is the session or BIB entry, `reason` that of a deletion. */
type Delivery = (s: SessionSubscriber, table: Nat64Table, handle: number, reason: DeleteReason) => void;

/** What creations and probes pass for the reason they do not have; their deliveries ignore it. */
const NO_REASON = 0 as DeleteReason;

const SESSION_CREATED: Delivery = (s, table, h) => s.sessionCreated!(table, h);
const SESSION_DELETED: Delivery = (s, table, h, reason) => s.sessionDeleted!(table, h, reason);
const BIB_CREATED: Delivery = (s, table, b) => s.bibCreated!(table, b);
const BIB_DELETED: Delivery = (s, table, b, reason) => s.bibDeleted!(table, b, reason);
const TCP_PROBE: Delivery = (s, table, h) => s.tcpProbe!(table, h);

/** Fans the table's events out to subscribers; install it with `table.setListener(events)`. */
export class SessionEvents implements Nat64Listener {
  /** Calls of a subscriber that threw (caught here; the event went on to the others). */
  errors = 0;
  private created: SessionSubscriber[] = [];
  private deleted: SessionSubscriber[] = [];
  private bibsCreated: SessionSubscriber[] = [];
  private bibsDeleted: SessionSubscriber[] = [];
  private probes: SessionSubscriber[] = [];

  constructor(private readonly table: Nat64Table) {}

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(subscriber: SessionSubscriber): () => void {
    for (const [method, list] of LISTS) {
      // Copy on change: a subscriber may unsubscribe from inside an event.
      if (subscriber[method] !== undefined) this[list] = [...this[list], subscriber];
    }
    return () => {
      for (const [, list] of LISTS) this[list] = this[list].filter((s) => s !== subscriber);
    };
  }

  sessionCreated(session: number): void {
    this.deliver(this.created, SESSION_CREATED, session, NO_REASON);
  }

  sessionDeleted(session: number, reason: DeleteReason): void {
    this.deliver(this.deleted, SESSION_DELETED, session, reason);
  }

  bibCreated(bib: number): void {
    this.deliver(this.bibsCreated, BIB_CREATED, bib, NO_REASON);
  }

  bibDeleted(bib: number, reason: DeleteReason): void {
    this.deliver(this.bibsDeleted, BIB_DELETED, bib, reason);
  }

  tcpProbe(session: number): void {
    this.deliver(this.probes, TCP_PROBE, session, NO_REASON);
  }

  /** Each subscriber in turn, whatever the ones before it threw. */
  private deliver(subscribers: readonly SessionSubscriber[], delivery: Delivery, handle: number, reason: DeleteReason): void {
    const table = this.table;
    for (let i = 0; i < subscribers.length; i++) {
      const s = subscribers[i]!;
      try {
        delivery(s, table, handle, reason);
      } catch (error) {
        this.subscriberFailed(s, error);
      }
    }
  }

  private subscriberFailed(s: SessionSubscriber, error: unknown): void {
    this.errors++;
    try {
      s.failed?.(error);
    } catch {
      // Counted above; a failing failure report has nowhere else to go.
    }
  }
}
