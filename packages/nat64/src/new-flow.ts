// The flow an outbound lookup last found new (no session, and no BIB entry for its client), for the
// call that makes it next. A caller that looks at a new flow before the table makes its mapping (the
// gateway's client-miss handler) calls outbound() twice for one packet; the second call then skips
// the two lookups the first one just made, as long as no session or BIB entry came or went between
// them (Core.changes).

import { readU32 } from '@nat64/wire';

export class NewFlowMemo {
  /** Core.changes when the flow was noted; -1 once it is used or when none is noted. */
  private at = -1;
  private protocol = 0;
  private a0 = 0;
  private a1 = 0;
  private a2 = 0;
  private a3 = 0;
  private clientPort = 0;
  private serverAddress = 0;
  private serverPort = 0;

  note(changes: number, protocol: number, a0: number, a1: number, a2: number, a3: number, clientPort: number, serverAddress: number, serverPort: number): void {
    this.at = changes;
    this.protocol = protocol;
    this.a0 = a0;
    this.a1 = a1;
    this.a2 = a2;
    this.a3 = a3;
    this.clientPort = clientPort;
    this.serverAddress = serverAddress;
    this.serverPort = serverPort;
  }

  /** Whether this is the noted flow and nothing changed since (`changes`); either way the note is used up. */
  take(changes: number, protocol: number, clientAddress: Uint8Array, offset: number, clientPort: number, serverAddress: number, serverPort: number): boolean {
    if (this.at < 0) return false;
    const same =
      this.at === changes &&
      this.protocol === protocol &&
      this.clientPort === clientPort &&
      this.serverPort === serverPort &&
      this.serverAddress === serverAddress &&
      this.a3 === readU32(clientAddress, offset + 12) &&
      this.a2 === readU32(clientAddress, offset + 8) &&
      this.a1 === readU32(clientAddress, offset + 4) &&
      this.a0 === readU32(clientAddress, offset);
    this.at = -1;
    return same;
  }
}
