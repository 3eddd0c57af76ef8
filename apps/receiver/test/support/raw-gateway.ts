// A bare UDP socket on a gateway's NAT address for tests that play an attacker, a replay or a
// delayed datagram: it sends codec-built datagrams as they are and keeps every reply it gets.
import { createSocket, type Socket } from 'node:dgram';
import { DecodeStatus, DatagramView, datagram, inspectDatagram, type HandoffMessage } from '@nat64/handoff-codec';
import { waitFor } from '@nat64/netlab';
import { uint32ToIpv4Text } from '@nat64/wire';

export class RawGateway {
  /** Every datagram received, decoded, in arrival order. */
  readonly received: HandoffMessage[] = [];
  private readonly view = new DatagramView();

  private constructor(
    private readonly socket: Socket,
    private readonly receiverPort: number,
  ) {
    socket.on('message', (bytes) => {
      if (inspectDatagram(bytes, 0, bytes.length, this.view) === DecodeStatus.OK) this.received.push(datagram.decode(bytes, 0, bytes.length));
    });
  }

  static async open(natAddress: number, receiverPort: number): Promise<RawGateway> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: uint32ToIpv4Text(natAddress), port: 0 }, () => resolve());
    });
    return new RawGateway(socket, receiverPort);
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes, this.receiverPort, '127.0.0.1');
  }

  /** Waits until a received message satisfies `match` and returns it. */
  waitFor(what: string, match: (message: HandoffMessage) => boolean): Promise<HandoffMessage> {
    return waitFor(what, () => this.received.find(match));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
