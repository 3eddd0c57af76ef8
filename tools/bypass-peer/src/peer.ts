// The gateway end of one NAT64 bypass tunnel (docs/protocol/nat64-bypass.md), built only from
// @nat64/geneve and a TAP device: the TAP is the gateway's side of the tunnel link, with the
// derived MAC, so the gateway host's own kernel routes clients' IPv6 packets into it and answers
// neighbor discovery. Frames from the TAP go to the server with the bypass option (the log
// message on solicitations, an empty option otherwise); packets from the server are checked as a
// gateway checks them (VNI, no option, IPv6 in Ethernet) and their frames written into the TAP.
// Every packet from the server is reported as an event, so tests see what crossed the wire.
import { createSocket, type Socket } from 'node:dgram';
import {
  BYPASS_STATUS_NAMES,
  BypassEncapsulator,
  BypassStatus,
  BypassView,
  Geneve,
  NEIGHBOR_FRAME_LENGTH,
  Ndp,
  NdpStatus,
  NdpView,
  decapsulateBypass,
  inspectNeighborMessage,
  writeNeighborSolicitation,
} from '@nat64/geneve';
import type { TunDevice } from '@nat64/tun';

export interface BypassPeerConfig {
  /** The server's IPv4 address (outer destination). */
  server: string;
  /** This gateway's IPv4 address to send from. */
  local: string;
  vni: number;
  mac: Uint8Array;
  /** The gateway's address on the tunnel link (the offer's source). */
  linkLocal: Uint8Array;
  /** PREFIX::SERVER-IPV4. */
  target: Uint8Array;
  message: string;
  /** The TAP device, opened and configured by the caller. */
  device: TunDevice;
  onEvent(event: PeerEvent): void;
}

export type PeerEvent =
  | { event: 'ready'; port: number }
  | { event: 'offer' }
  | {
      event: 'received';
      status: string;
      vni: number;
      option: boolean;
      protocolType: number;
      /** ICMPv6 type of the inner packet, or its IPv6 Next Header. */
      icmpv6Type: number | null;
      nextHeader: number | null;
      /** For an NA: its target and flags. */
      advertisedTarget?: string;
      flags?: number;
    };

const HEADROOM = 64;
/** dgram may queue a send and read its buffer later: each frame gets its own slot of a ring. */
const RING_SLOTS = 256;

export class BypassPeer {
  private socket: Socket | undefined;
  private readonly offers: BypassEncapsulator;
  private readonly plain: BypassEncapsulator;
  private readonly view = new BypassView();
  private readonly ndp = new NdpView();
  private readonly out: Buffer;
  private readonly slotSize: number;
  private nextSlot = 0;
  readonly counts = new Map<string, number>();

  constructor(private readonly config: BypassPeerConfig) {
    this.offers = new BypassEncapsulator({ vni: config.vni, message: config.message });
    this.plain = new BypassEncapsulator({ vni: config.vni, message: '' });
    this.slotSize = HEADROOM + config.device.rx.slotSize;
    this.out = Buffer.alloc(RING_SLOTS * this.slotSize);
  }

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (packet) => this.fromServer(packet));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(Geneve.PORT, this.config.local, () => resolve());
    });
    this.config.device.start((count) => this.fromTap(count));
    this.config.onEvent({ event: 'ready', port: socket.address().port });
  }

  /** Sends an offer: a Neighbor Solicitation for the target, with the log message. */
  offer(): void {
    const frameOffset = this.takeSlot() + HEADROOM;
    const end = writeNeighborSolicitation(this.out, frameOffset, { sourceMac: this.config.mac, source: this.config.linkLocal, target: this.config.target });
    this.send(this.offers, frameOffset, end - frameOffset);
    this.config.onEvent({ event: 'offer' });
  }

  close(): void {
    this.config.device.close();
    this.socket?.close();
  }

  private fromTap(count: number): void {
    const { buffer, slotSize, lengths } = this.config.device.rx;
    for (let i = 0; i < count; i++) {
      const length = lengths[i]!;
      const frameOffset = this.takeSlot() + HEADROOM;
      buffer.copy(this.out, frameOffset, i * slotSize, i * slotSize + length);
      const solicitation = length === NEIGHBOR_FRAME_LENGTH && this.out[frameOffset + 54] === Ndp.NEIGHBOR_SOLICITATION;
      this.send(solicitation ? this.offers : this.plain, frameOffset, length);
    }
  }

  private takeSlot(): number {
    const slot = this.nextSlot * this.slotSize;
    this.nextSlot = (this.nextSlot + 1) % RING_SLOTS;
    return slot;
  }

  private send(encapsulator: BypassEncapsulator, frameOffset: number, length: number): void {
    const start = encapsulator.encapsulate(this.out, frameOffset, length);
    this.socket?.send(this.out.subarray(start, frameOffset + length), Geneve.PORT, this.config.server);
  }

  private fromServer(packet: Buffer): void {
    const view = this.view;
    const status = decapsulateBypass(packet, 0, packet.length, view, { vni: this.config.vni, direction: 'to-gateway' });
    const name = BYPASS_STATUS_NAMES[status]!;
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    const frame = view.frameOffset;
    const ipv6 = view.frameLength >= 54;
    const nextHeader = ipv6 ? packet[frame + 20]! : null;
    const icmpv6Type = nextHeader === Ndp.NEXT_HEADER_ICMPV6 && view.frameLength > 54 ? packet[frame + 54]! : null;
    const event: PeerEvent = {
      event: 'received',
      status: name,
      vni: view.vni,
      option: view.hasBypassOption,
      protocolType: view.protocolType,
      icmpv6Type,
      nextHeader,
    };
    if (icmpv6Type === Ndp.NEIGHBOR_ADVERTISEMENT && inspectNeighborMessage(packet, frame, view.frameLength, this.ndp) === NdpStatus.ADVERTISEMENT) {
      event.advertisedTarget = Buffer.from(packet.subarray(this.ndp.targetOffset, this.ndp.targetOffset + 16)).toString('hex');
      event.flags = this.ndp.flags;
    }
    this.config.onEvent(event);
    if (status === BypassStatus.FRAME) this.config.device.writePacket(packet, frame, view.frameLength);
  }
}
