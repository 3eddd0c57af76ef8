// The Geneve side of the receiver (docs/protocol/geneve-options.md): every packet on UDP 6081 is
// decapsulated and checked. Control packets (O bit) carry handoff v1 messages, which go to the
// same engine as those on port 62863, and may carry a mapping event. Data packets carry the
// gateway's translated IPv4 packets: their mapping option updates the table, and the inner packet
// goes into the host's stack through a TUN device, so server applications see the NAT address and
// port exactly as without a tunnel.
import {
  CONTROL_PROTOCOL_TYPE,
  DECAP_STATUS_NAMES,
  DecapStatus,
  GeneveView,
  GeneveWriter,
  ProtocolType,
  createReceivePolicy,
  decapsulate,
  isDrop,
  type ReceivePolicy,
} from '@nat64/geneve';
import type { ConnEntry } from '@nat64/conntrack';
import { statusCounters, type CounterSnapshot, type Counters } from '@nat64/service';
import type { ReceiverCounterName } from '@nat64/handoff-receiver';
import { geneveVni, type Receiver } from '@nat64/handoff-receiver';

/** Where inner packets go: the TUN device's single-packet write. */
export interface PacketSink {
  writePacket(buffer: Uint8Array, offset: number, length: number): boolean;
}

export interface GeneveEndpointOptions {
  optionClass: number;
  /** The authentication key (and its Key ID) configured for a gateway address, if any. */
  keyFor(address: string): { keyId: number; secret: Uint8Array } | undefined;
}

const IPV4_MIN_HEADER = 20;
const PROTOCOL_TCP = 6;
const PROTOCOL_UDP = 17;

export class GeneveEndpoint {
  private readonly view = new GeneveView();
  private readonly policies = new Map<string, ReceivePolicy>();
  private readonly writers = new Map<string, GeneveWriter>();
  /** Drops by decapsulation status, for stats. */
  readonly drops = new Float64Array(DECAP_STATUS_NAMES.length);

  constructor(
    private readonly receiver: Receiver,
    private readonly sink: PacketSink,
    private readonly counters: Counters<ReceiverCounterName>,
    private readonly options: GeneveEndpointOptions,
  ) {}

  handleDatagram(buf: Buffer, sourceAddress: string, port: number): void {
    const address = sourceAddress.startsWith('::ffff:') ? sourceAddress.slice(7) : sourceAddress;
    this.counters.add('geneveReceived');
    const view = this.view;
    const status = decapsulate(buf, 0, buf.length, view, this.policyFor(address));
    if (isDrop(status)) {
      this.drops[status]!++;
      this.counters.add('geneveDropped');
      return;
    }
    if (status === DecapStatus.CONTROL || view.oam) {
      this.counters.add('geneveControl');
      if (view.hasMapping) {
        // A mapping event without data (a Deleted, options section 3.2) needs an established epoch.
        const peer = this.receiver.geneveSender(address, view.vni);
        if (peer) this.receiver.mappingEvent(peer, view.event, this.mappingEntry(0, 0));
      }
      if (view.protocolType === CONTROL_PROTOCOL_TYPE && view.payloadLength > 0) {
        // A copy: `buf` may be the batched socket's, reused by the next read; the engine may keep this.
        this.receiver.handleDatagram(Buffer.from(buf.subarray(view.payloadOffset, view.payloadOffset + view.payloadLength)), address, port, 'geneve');
      }
      return;
    }
    if (view.protocolType !== ProtocolType.IPV4) {
      this.counters.add('geneveInnerRefused');
      return;
    }
    const peer = this.receiver.geneveSender(address, view.vni);
    if (!peer) {
      this.counters.add('geneveUnknownSender');
      return;
    }
    const inner = view.payloadOffset;
    const length = view.payloadLength;
    // Only the gateway's own translated packets: IPv4, from the NAT address this epoch speaks for.
    if (length < IPV4_MIN_HEADER || buf[inner]! >>> 4 !== 4 || buf.readUInt32BE(inner + 12) !== peer.natAddress) {
      this.counters.add('geneveInnerRefused');
      return;
    }
    if (view.hasMapping) {
      const headerLength = (buf[inner]! & 0x0f) * 4;
      const protocol = buf[inner + 9]!;
      const hasPorts = (protocol === PROTOCOL_TCP || protocol === PROTOCOL_UDP) && length >= headerLength + 4;
      this.receiver.mappingEvent(peer, view.event, this.mappingEntry(buf.readUInt32BE(inner + 16), hasPorts ? buf.readUInt16BE(inner + headerLength + 2) : 0));
    }
    if (this.sink.writePacket(buf, inner, length)) this.counters.add('geneveDelivered');
    else this.counters.add('geneveDeliveryFailed');
  }

  /** The drops by reason, as counters named geneveDrop.<reason> (all of them with `all`, else the nonzero). */
  dropCounters(all: boolean): CounterSnapshot[] {
    const counted = (status: number): boolean => isDrop(status as DecapStatus);
    return statusCounters(this.drops, DECAP_STATUS_NAMES, 'geneveDrop', (name) => `Geneve packets dropped: ${name}`, { all, counted });
  }

  /** Frames a handoff v1 reply as a Geneve control packet for the gateway epoch with `cookie`. */
  frame(bytes: Buffer, address: string, cookie: bigint): Buffer {
    const vni = geneveVni(cookie);
    const writerKey = `${address}/${vni}`;
    let writer = this.writers.get(writerKey);
    if (!writer) {
      const key = this.options.keyFor(address);
      writer = new GeneveWriter({ vni, optionClass: this.options.optionClass, ...(key ? { auth: key } : {}) });
      if (this.writers.size > 4096) this.writers.clear();
      this.writers.set(writerKey, writer);
    }
    const headroom = writer.headerLength(false);
    const packet = Buffer.alloc(headroom + bytes.length);
    bytes.copy(packet, headroom);
    const start = writer.writeControl(packet, headroom, bytes.length, null);
    return packet.subarray(start);
  }

  private policyFor(address: string): ReceivePolicy {
    let policy = this.policies.get(address);
    if (!policy) {
      const key = this.options.keyFor(address);
      policy = createReceivePolicy({ optionClass: this.options.optionClass, ...(key ? { authKeys: new Map([[key.keyId, key.secret]]) } : {}) });
      if (this.policies.size > 65_536) this.policies.clear();
      this.policies.set(address, policy);
    }
    return policy;
  }

  private mappingEntry(serverAddress: number, serverPort: number): ConnEntry {
    const view = this.view;
    const clientAddress = new Uint8Array(16);
    view.copyClientAddress(clientAddress, 0);
    return {
      protocol: view.protocol,
      natAddress: view.natAddress,
      natPort: view.natPort,
      clientAddress,
      clientPort: view.clientPort,
      serverAddress,
      serverPort,
      createdAt: view.creationTimeUs,
    };
  }
}
