// Test doubles shared by the receiver's tests: a message as the bytes a gateway would send, and a
// store whose commits can be made to fail as a full disk would.
import { MemoryStore, StoreError, type ConnStore } from '@nat64/conntrack';
import { datagram, type HandoffMessage } from '@nat64/handoff-codec';

/** The datagram that carries `message`, in a Buffer of its own. */
export function encodeDatagram(message: HandoffMessage): Buffer {
  const bytes = Buffer.alloc(datagram.encodingLength(message));
  datagram.encode(message, bytes, 0);
  return bytes;
}

/** A memory store whose commits throw StoreError('full') while `failing` is set. */
export class FlakyStore extends MemoryStore {
  failing = false;
  override commit(...args: Parameters<ConnStore['commit']>): void {
    if (this.failing) throw new StoreError('full', 'injected: disk full');
    super.commit(...args);
  }
}
