// Session events for whoever needs to follow the connection table (the handoff sender, the session
// log): one Nat64Table listener that fans out to any number of subscribers, built on the table's own
// synchronous events, so nothing is allocated per event.

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
}

/** Fans the table's events out to subscribers; install it with `table.setListener(events)`. */
export class SessionEvents implements Nat64Listener {
  private created: SessionSubscriber[] = [];
  private deleted: SessionSubscriber[] = [];
  private bibsCreated: SessionSubscriber[] = [];
  private bibsDeleted: SessionSubscriber[] = [];
  private probes: SessionSubscriber[] = [];

  constructor(private readonly table: Nat64Table) {}

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(subscriber: SessionSubscriber): () => void {
    const lists: [keyof SessionSubscriber, 'created' | 'deleted' | 'bibsCreated' | 'bibsDeleted' | 'probes'][] = [
      ['sessionCreated', 'created'],
      ['sessionDeleted', 'deleted'],
      ['bibCreated', 'bibsCreated'],
      ['bibDeleted', 'bibsDeleted'],
      ['tcpProbe', 'probes'],
    ];
    for (const [method, list] of lists) {
      // Copy on change: a subscriber may unsubscribe from inside an event.
      if (subscriber[method] !== undefined) this[list] = [...this[list], subscriber];
    }
    return () => {
      for (const [, list] of lists) this[list] = this[list].filter((s) => s !== subscriber);
    };
  }

  sessionCreated(session: number): void {
    for (const s of this.created) s.sessionCreated!(this.table, session);
  }

  sessionDeleted(session: number, reason: DeleteReason): void {
    for (const s of this.deleted) s.sessionDeleted!(this.table, session, reason);
  }

  bibCreated(bib: number): void {
    for (const s of this.bibsCreated) s.bibCreated!(this.table, bib);
  }

  bibDeleted(bib: number, reason: DeleteReason): void {
    for (const s of this.bibsDeleted) s.bibDeleted!(this.table, bib, reason);
  }

  tcpProbe(session: number): void {
    for (const s of this.probes) s.tcpProbe!(this.table, session);
  }
}
