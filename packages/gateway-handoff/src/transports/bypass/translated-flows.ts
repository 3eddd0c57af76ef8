// Flows keep their path after their session is gone. A flow translated toward a host that accepted bypass
// has no way into the tunnel: the server's IPv6 stack knows it as a connection from the NAT address and
// would answer a client's packet there with a RST. While its session lives the datapath sees it
// (hasSession); once the session leaves the table (it timed out, or, handed off in mode auto, was evicted
// from the cache) only this memory knows the flow. It is the memory of evicted flows (evicted-flows.ts)
// with the NAT port beside the NAT address, filled from the table's deletions toward accepted hosts.
//
// When the client of a remembered flow speaks first (a TCP segment other than a SYN, a UDP datagram, an
// echo request), its packet stays on the NAT64: a flow the gateway timed out itself gets its session back
// on the same NAT address and port, as an ordinary session of the gateway's, so the server sees the same
// peer and the connection goes on; a flow handed off to a receiver is left to the NAT64's client-first
// path (CLIENT-QUERY), which asks the receiver. A port taken meanwhile by another client leaves the packet
// to the NAT64 too (a TCP segment is dropped as a plain NAT64 drops it, a datagram gets a new mapping).
// One lookup per packet of a flow without a session, only while the memory holds some flow.

import { DELETE_REASON, PROTOCOL, TCP_STATE, type DeleteReason, type Nat64Table } from '@nat64/nat64';
import type { Counters } from '@nat64/service';
import { readSessionPorts, SessionPorts } from '@nat64/gateway-engine';
import type { Ipv6View } from '@nat64/xlat';
import { EvictedFlows } from '../../evicted-flows.js';
import type { BypassCounterName } from './counters.js';

const ECHO_REQUEST = 128;
const PORTS = new SessionPorts();
const TCP_FLAGS = 13;
const TCP_SYN = 0x02;
/** The port value of a flow handed off: its receiver holds the NAT port. */
const HANDED_OFF = -1;

export class TranslatedFlows {
  readonly memory: EvictedFlows;
  private readonly client = new Uint8Array(16);
  private readonly values: Float64Array;
  private readonly index: Readonly<Record<BypassCounterName, number>>;

  constructor(
    capacity: number,
    private readonly table: Nat64Table,
    counters: Counters<BypassCounterName>,
    /** Whether new flows toward this host go through a tunnel now. */
    private readonly accepted: (host: number) => boolean,
  ) {
    this.memory = new EvictedFlows(capacity, 0x7a11_f10e, true);
    this.values = counters.values;
    this.index = counters.index;
  }

  get size(): number {
    return this.memory.size;
  }

  /** A session left the table (an engine SessionSubscriber's sessionDeleted). */
  sessionDeleted(table: Nat64Table, h: number, reason: DeleteReason): void {
    if (reason !== DELETE_REASON.TIMEOUT && reason !== DELETE_REASON.EVICTED) return;
    const host = table.serverAddress(h);
    if (!this.accepted(host)) return;
    const protocol = table.protocol(h);
    if (protocol === PROTOCOL.TCP) {
      const state = table.tcpState(h);
      // An idle connection times out from TRANS; a handed-off one in TRANS was reset, and one past both FINs is over.
      if (reason === DELETE_REASON.TIMEOUT ? state !== TCP_STATE.TRANS : state === TCP_STATE.TRANS || state === TCP_STATE.V4_FIN_V6_FIN_RCV) return;
    }
    table.copyClientAddress(h, this.client, 0);
    const port = reason === DELETE_REASON.EVICTED ? HANDED_OFF : table.natPort(h);
    this.memory.remember(protocol, this.client, 0, table.clientPort(h), host, table.serverPort(h), table.natAddress(h), port);
    this.values[this.index.translatedFlowsRemembered]!++;
  }

  /**
   * Whether the packet `v` toward `host`, whose flow has no session, belongs to a remembered flow and stays
   * on the NAT64 (its session restored when the gateway had timed it out). Never throws.
   */
  keep(v: Ipv6View, host: number): boolean {
    if (this.memory.size === 0 || v.isFragment) return false;
    if (!readSessionPorts(v, false, PORTS)) return false;
    const { protocol, near: clientPort, server: serverPort } = PORTS;
    if (protocol === PROTOCOL.ICMP && v.icmpType !== ECHO_REQUEST) return false;
    const memory = this.memory;
    const buf = v.buf;
    const natAddress = memory.recall(protocol, buf, v.srcOffset, clientPort, host, serverPort);
    if (natAddress < 0) return false;
    memory.forget(protocol, buf, v.srcOffset, clientPort, host, serverPort);
    // A SYN opens a new connection on the same ports: that one is the tunnel's.
    if (protocol === PROTOCOL.TCP && (buf[v.l4Offset + TCP_FLAGS]! & TCP_SYN) !== 0) return false;
    const natPort = memory.recalledPort;
    if (natPort === HANDED_OFF) {
      this.values[this.index.translatedFlowsAsked]!++;
      return true;
    }
    this.client.set(buf.subarray(v.srcOffset, v.srcOffset + 16));
    const table = this.table;
    const h = table.restore({ protocol: protocol as 1 | 6 | 17, clientAddress: this.client, clientPort, natAddress, natPort, serverAddress: host, serverPort });
    if (h < 0) {
      this.values[this.index.translatedFlowsConflicts]!++;
      return true;
    }
    // restore() makes a handed-off session; this one is the gateway's own again, with its timers.
    table.setHandedOff(h, false);
    this.values[this.index.translatedFlowsRestored]!++;
    return true;
  }
}
