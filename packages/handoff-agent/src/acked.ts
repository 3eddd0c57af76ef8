// The CREATED entries one ACK hands off, as the gateway sees them: the refs it gave each entry, and
// the entries themselves read from the datagram only when asked for. A gateway that finds its
// mappings by ref never decodes them, which keeps an ACK's work to the refs it carries.
import { createEntry, readEntry, type HandoffEntry } from '@nat64/handoff-codec';
import type { Message } from './message.js';

/** The entries of one acknowledged CREATED datagram (HandoffAgentEvents.onHandedOff); valid during the call. */
export interface AckedEntries {
  /** How many entries. */
  readonly count: number;
  /** The `ref` entry `i` was created with (mappingCreated), -1 for none. */
  ref(i: number): number;
  /** Entry `i`, read into an object that the next call reuses. */
  entry(i: number): HandoffEntry;
}

/** AckedEntries over a Message, pointed at one message after another. */
export class AckedMessage implements AckedEntries {
  count = 0;
  private message: Message | null = null;
  private readonly read = createEntry();

  of(message: Message): this {
    this.message = message;
    this.count = message.count;
    return this;
  }

  /** Points at no message: the one it was pointed at goes back to the pool, and a late read throws instead of reading its next use. */
  clear(): void {
    this.message = null;
    this.count = 0;
  }

  ref(i: number): number {
    return this.at(i).refs[i]!;
  }

  entry(i: number): HandoffEntry {
    const message = this.at(i);
    readEntry(message.bytes, message.entryOffset(i), this.read);
    return this.read;
  }

  private at(i: number): Message {
    const message = this.message;
    if (message === null || !(i >= 0 && i < this.count)) throw new RangeError(`no acknowledged entry ${i} of ${this.count}`);
    return message;
  }
}
