// Geneve control packets (options §5) through the gateway's own packet path: the agent's handoff v1
// datagrams leave as control packets (O bit, Protocol Type 0x88B5) from NAT address port 6081 to the
// host's port 6081, so replies come back to pool4:6081; mapping Deleted events leave as control packets
// with an empty payload. Packets to pool4:6081 are decapsulated and checked (authentication option when
// a key is configured) before their handoff datagram reaches the agent. ICMP errors about our control
// and data packets are handled quietly (counted, never logged per packet).

import {
  DECAP_STATUS_NAMES,
  DecapStatus,
  GeneveView,
  GeneveWriter,
  createReceivePolicy,
  decapsulate,
  isDrop,
  type MappingOption,
  type ReceivePolicy,
} from '@nat64/geneve';
import type { Counters } from '@nat64/service';
import type { Ipv4View } from '@nat64/xlat';
import { LocalSocket, type Engine } from '@nat64/gateway-engine';
import type { GeneveCounterName } from './counters.js';
import { SPEC } from './constants.js';
import type { TunnelSettings } from './tunnels.js';

/** Where received control datagrams and errors go (the Geneve glue, then the agent). */
export interface ControlReceiver {
  /** A handoff v1 datagram from a control packet; `authenticated`: its authentication option verified. */
  receive(natAddress: number, host: number, payload: Uint8Array, authenticated: boolean): void;
  /** Nothing listens on the host's port 6081 (ICMP port unreachable about a control or data packet). */
  portUnreachable(natAddress: number, host: number): void;
}

const WRITERS_KEPT = 4096;

/**
 * Sends and receives control packets. Contract: `send` never throws and copies the payload (the agent
 * may reuse its buffer at once); received payloads are views into the engine's receive buffer, valid
 * only during the receive() call.
 */
export class GeneveControl {
  /** Drops by decapsulation status, for `stats` (geneve.drop.*). */
  readonly drops = new Float64Array(DECAP_STATUS_NAMES.length);
  /** The UDP socket on pool4:6081; its counters stay internal (the group geneve counts control packets). */
  private readonly udp: LocalSocket;
  private readonly writers = new Map<number, GeneveWriter>();
  private readonly packet: Uint8Array;
  private readonly headroom: number;
  private readonly view = new GeneveView();
  private readonly policy: ReceivePolicy;

  constructor(
    private readonly engine: Engine,
    private readonly settings: TunnelSettings,
    private readonly counters: Counters<GeneveCounterName>,
    /** The largest handoff datagram the agent sends. */
    maxDatagram: number,
  ) {
    this.headroom = this.writer(0).maxHeaderLength;
    this.packet = new Uint8Array(this.headroom + maxDatagram);
    this.udp = new LocalSocket(engine, SPEC.GENEVE_PORT, this.packet.length);
    this.policy = createReceivePolicy({
      optionClass: settings.optionClass,
      ...(settings.auth === undefined ? {} : { authKeys: new Map([[settings.auth.keyId, settings.auth.secret]]) }),
    });
  }

  /** A handoff datagram as a control packet with VNI `vni` (0 before the HELLO exchange, options §5). */
  send(natAddress: number, host: number, vni: number, payload: Uint8Array): void {
    if (payload.length > this.packet.length - this.headroom) {
      this.counters.add('encapsulationFailed');
      return;
    }
    this.packet.set(payload, this.headroom);
    const start = this.writer(vni).writeControl(this.packet, this.headroom, payload.length, null);
    this.udp.send(natAddress, host, this.packet.subarray(start, this.headroom + payload.length));
    this.counters.add('controlSent');
  }

  /** A mapping Deleted: a control packet with an empty payload and the mapping option (options §3.2). */
  sendDeleted(natAddress: number, host: number, vni: number, mapping: MappingOption): void {
    const start = this.writer(vni).writeControl(this.packet, this.headroom, 0, mapping);
    this.udp.send(natAddress, host, this.packet.subarray(start, this.headroom));
    this.counters.add('deletedSent');
  }

  /** Delivers control packets to `receiver`, and ICMP errors about our packets; returns the detach function. */
  attach(receiver: ControlReceiver): () => void {
    const offUdp = this.udp.attach({
      receive: (natAddress, host, _port, payload) => this.received(natAddress, host, payload, receiver),
      portUnreachable: (natAddress, host) => {
        this.counters.add('portUnreachable');
        receiver.portUnreachable(natAddress, host);
      },
    });
    const offTunnel = this.engine.onTunnelError(SPEC.GENEVE_PORT, (v) => this.dataError(v, receiver));
    return () => {
      offUdp();
      offTunnel();
    };
  }

  private received(natAddress: number, host: number, payload: Uint8Array, receiver: ControlReceiver): void {
    const view = this.view;
    const status = decapsulate(payload, 0, payload.length, view, this.policy);
    if (isDrop(status)) {
      this.drops[status]!++;
      this.counters.add('dropped');
      return;
    }
    if (status !== DecapStatus.CONTROL) {
      // Replies inside Geneve data packets are not part of this profile (yet): dropped, counted.
      this.counters.add('notControl');
      return;
    }
    if (view.payloadLength === 0) return;
    this.counters.add('controlReceived');
    receiver.receive(natAddress, host, payload.subarray(view.payloadOffset, view.payloadOffset + view.payloadLength), this.policy.keys !== null);
  }

  /** An ICMP error quoting one of our data packets (to the host's 6081, from a hashed source port). */
  private dataError(v: Ipv4View, receiver: ControlReceiver): void {
    const inner = v.inner!;
    if (v.icmpType === SPEC.ICMP4_UNREACH && v.icmpCode === SPEC.ICMP4_PORT_UNREACH) {
      this.counters.add('portUnreachable');
      receiver.portUnreachable(inner.src, inner.dst);
    } else if (v.icmpType === SPEC.ICMP4_UNREACH && v.icmpCode === SPEC.ICMP4_FRAG_NEEDED) {
      this.counters.add('tooBig');
    } else {
      this.counters.add('otherErrors');
    }
  }

  private writer(vni: number): GeneveWriter {
    let writer = this.writers.get(vni);
    if (writer === undefined) {
      const { optionClass, auth } = this.settings;
      writer = new GeneveWriter({ vni, optionClass, ...(auth === undefined ? {} : { auth }) });
      if (this.writers.size >= WRITERS_KEPT) this.writers.clear();
      this.writers.set(vni, writer);
    }
    return writer;
  }
}
