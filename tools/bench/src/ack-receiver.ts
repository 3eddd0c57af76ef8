// ack-receiver: the least a handoff receiver does for a gateway, for benchmarks that measure the
// gateway at rates where nat64-receiver would take the load generator's core (on this 2-core machine
// they share one). It answers HELLO with an authoritative HELLO-ACK and acknowledges CREATED and
// DELETED datagrams cumulatively, timed by nat64-receiver's own AckDelay with its default delay (an ACK
// held up to 4 ms, at once when it covers 16 messages or answers a duplicate, early when its gateway
// sends again after it has waited half the delay), and stores and logs nothing. Its control socket
// answers `stats` with the entries it acknowledged, as `created`.
//
// usage: node tools/bench/dist/ack-receiver.js --listen ADDRESS --control PATH [--port 62863 (0: any)] [--ack-delay-ms 4]

import { createSocket } from 'node:dgram';
import { Command } from 'commander';
import {
  Capability,
  DatagramView,
  DecodeStatus,
  HANDOFF_PORT,
  HANDOFF_VERSION,
  MessageType,
  ReceiverFlag,
  datagram,
  inspectDatagram,
  type HandoffMessage,
} from '@nat64/handoff-codec';
import { AckDelay, DEFAULT_ACK_DELAY_MS } from '@nat64/handoff-receiver/ack-delay';
import { listenControl } from '@nat64/service';

/** The window the HELLO-ACK advertises. */
const WINDOW = 1024;
const COOKIE = 0x0123456789abcdefn;

/** One gateway's stream under one epoch: where it is, what it sent and what the last ACK carried. */
interface Stream {
  address: string;
  port: number;
  epoch: bigint;
  cumulative: number;
  lastAck: number;
}

const options = new Command()
  .requiredOption('--listen <address>', 'IPv4 address to listen on')
  .requiredOption('--control <path>', 'control socket')
  .option('--port <port>', 'UDP port', Number, HANDOFF_PORT)
  .option('--ack-delay-ms <ms>', 'longest an ACK is held', Number, DEFAULT_ACK_DELAY_MS)
  .parse()
  .opts<{ listen: string; control: string; port: number; ackDelayMs: number }>();

const socket = createSocket('udp4');
const view = new DatagramView();
const out = new Uint8Array(256);
const streams = new Map<string, Stream>();
const acks = new AckDelay<Stream>(options.ackDelayMs, sendAck);
let acknowledged = 0;
let dropped = 0;

function send(message: HandoffMessage, address: string, port: number): void {
  const length = datagram.encode(message, out, 0);
  // A copy: the send may still be queued when the next message is encoded into `out`.
  socket.send(out.slice(0, length), port, address);
}

function sendAck(stream: Stream, cumulative: number): void {
  stream.lastAck = cumulative;
  const header = { version: HANDOFF_VERSION, flags: 0, epoch: stream.epoch, cookie: COOKIE, sequence: 0 } as const;
  send({ ...header, type: MessageType.ACK, cumulative, blocks: [] }, stream.address, stream.port);
}

function received(payload: Uint8Array, address: string, port: number): void {
  if (inspectDatagram(payload, 0, payload.length, view) !== DecodeStatus.OK) {
    dropped++;
    return;
  }
  const epoch = (BigInt(view.epochHigh) << 32n) | BigInt(view.epochLow);
  if (view.type === MessageType.HELLO) {
    const header = { version: HANDOFF_VERSION, flags: 0, epoch, cookie: COOKIE, sequence: view.sequence } as const;
    send(
      { ...header, type: MessageType.HELLO_ACK, receiverFlags: ReceiverFlag.AUTHORITATIVE, capabilities: Capability.HANDOFF_V1, window: WINDOW },
      address,
      port,
    );
    return;
  }
  if (view.type !== MessageType.CREATED && view.type !== MessageType.DELETED) return;
  acks.gatewayAwake(epoch);
  const key = `${address}/${epoch}`;
  let stream = streams.get(key);
  if (stream === undefined) {
    stream = { address, port, epoch, cumulative: 0, lastAck: 0 };
    streams.set(key, stream);
  }
  if (view.sequence !== stream.cumulative + 1) {
    // A duplicate, or a datagram past one that was lost: the gateway waits on its retransmission timer.
    acks.acknowledgeAgain(stream, stream.cumulative);
    return;
  }
  stream.cumulative = view.sequence;
  if (view.type === MessageType.CREATED) acknowledged += view.count;
  acks.acknowledge(stream, stream.cumulative, stream.lastAck);
}

socket.on('message', (payload, remote) => received(payload, remote.address, remote.port));
socket.bind(options.port, options.listen, () => console.error(`ack-receiver listening on ${options.listen}:${socket.address().port}`));
await listenControl(options.control, {
  stats: () => ({
    counters: [
      { name: 'created', value: acknowledged },
      { name: 'dropped', value: dropped },
    ],
  }),
});
