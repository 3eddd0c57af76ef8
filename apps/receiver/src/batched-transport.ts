// The receiver's UDP 6081 sockets (both Geneve transports) through @nat64/tun's batched UDP: one
// recvmmsg(2) reads up to 64 datagrams into a buffer allocated once, each is handed on as an offset
// into it (no Buffer, no event, no allocation per datagram), and the end of every batch is reported
// so that what the datagrams produced (frames for a TAP device) can be written in one go; a batch of
// frames to one gateway leaves with one sendmmsg(2). Same plan of sockets and same replies as
// transport.ts, whose dgram sockets remain the fallback where the native binding is missing.
import { isIPv4, isIPv6 } from 'node:net';
import { openUdp, PEER_RECORD_SIZE, type BatchedUdpSocket } from '@nat64/tun';
import { bytesToIpv6Text, ipv6TextIntoBytes } from '@nat64/wire';
import { socketPlan, type Transport } from './transport.js';

const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;
/** Geneve packets of at most a 9000-byte jumbo frame; larger ones are counted as truncated. */
const SLOT_SIZE = 9216;
const MAPPED = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);

export interface BatchedTransport extends Transport {
  /** Sends datagrams i < count, `buffer[offsets[i], offsets[i] + lengths[i])`, to one peer, with one system call. */
  sendBatch(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, port: number, address: string): void;
}

export interface BatchedTransportOptions {
  addresses: string[];
  port: number;
  /** One datagram, `buf[offset, offset + length)`, valid during the call only; an IPv4 source as a.b.c.d. */
  onDatagram(buf: Buffer, offset: number, length: number, address: string, port: number): void;
  /** After the datagrams of one batch. */
  onBatchEnd(): void;
  onSendError(error: Error): void;
}

/** Opens the sockets; throws a TunError when one cannot be opened (the binding missing: code ERR_TUN_BINDING). */
export function openBatchedTransport(options: BatchedTransportOptions): BatchedTransport {
  const sockets: { socket: BatchedUdpSocket; label: string; family: 4 | 6; dualStack: boolean }[] = [];
  try {
    for (const { address, family, dualStack } of socketPlan(options.addresses)) {
      const socket = openUdp({
        address,
        port: options.port,
        v6Only: family === 6 && !dualStack,
        receiveBufferBytes: RECEIVE_BUFFER_BYTES,
        slotSize: SLOT_SIZE,
      });
      sockets.push({ socket, label: family === 6 ? `[${address}]:${socket.port}` : `${address}:${socket.port}`, family, dualStack });
    }
  } catch (error) {
    for (const { socket } of sockets) socket.close();
    throw error;
  }
  for (const { socket, label } of sockets) receive(socket, label, options);
  const v4 = sockets.find((entry) => entry.family === 4)?.socket;
  const v6 = sockets.find((entry) => entry.family === 6)?.socket;
  const dualStack = sockets.find((entry) => entry.dualStack);
  const peers = new Map<string, Uint8Array>();
  const one = { offsets: new Uint32Array(1), lengths: new Uint32Array(1) };
  const socketFor = (address: string) => (isIPv6(address) ? v6 : (v4 ?? dualStack?.socket));
  const sendBatch = (buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, port: number, address: string) => {
    const socket = socketFor(address);
    const peer = peerOf(peers, address, port);
    if (socket === undefined || peer === null) return options.onSendError(new Error(`no socket of the family of ${address} to send from`));
    const sent = socket.sendBatch(buffer, offsets, lengths, count, peer);
    if (sent < count) options.onSendError(new Error(`${count - sent} of ${count} datagrams to ${address} not sent (the kernel had no room or refused them)`));
  };
  return {
    bound: sockets.map(({ label }) => label),
    ipv4Through: dualStack?.label,
    send(bytes, port, address) {
      one.lengths[0] = bytes.length;
      sendBatch(bytes, one.offsets, one.lengths, 1, port, address);
    },
    sendBatch,
    // Sends never queue: the kernel takes a datagram or it is counted as dropped.
    sendQueueCount: () => 0,
    close: async () => {
      for (const { socket } of sockets) socket.close();
    },
  };
}

function receive(socket: BatchedUdpSocket, label: string, options: BatchedTransportOptions): void {
  const { buffer, slotSize, lengths, peers } = socket.rx;
  // The source of the previous datagram and its text: a batch mostly comes from one gateway.
  const last = new Uint8Array(PEER_RECORD_SIZE);
  let lastAddress = '';
  let lastPort = 0;
  socket.start(
    (count) => {
      for (let i = 0; i < count; i++) {
        const peer = i * PEER_RECORD_SIZE;
        if (lastAddress === '' || !samePeer(peers, peer, last)) {
          last.set(peers.subarray(peer, peer + PEER_RECORD_SIZE));
          lastAddress = startsMapped(last) ? `${last[12]}.${last[13]}.${last[14]}.${last[15]}` : bytesToIpv6Text(last, 0);
          lastPort = (last[16]! << 8) | last[17]!;
        }
        options.onDatagram(buffer, i * slotSize, lengths[i]!, lastAddress, lastPort);
      }
      options.onBatchEnd();
    },
    (error) => options.onSendError(new Error(`the socket on ${label} stopped receiving: ${error.message}`)),
  );
}

function samePeer(peers: Uint8Array, offset: number, last: Uint8Array): boolean {
  for (let i = 0; i < 18; i++) if (peers[offset + i] !== last[i]) return false;
  return true;
}

function startsMapped(peer: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (peer[i] !== MAPPED[i]) return false;
  return true;
}

/** The peer record of address:port, made once per peer (a handful of gateways). */
function peerOf(peers: Map<string, Uint8Array>, address: string, port: number): Uint8Array | null {
  const key = `${address} ${port}`;
  let peer = peers.get(key);
  if (peer !== undefined) return peer;
  peer = new Uint8Array(PEER_RECORD_SIZE);
  if (isIPv4(address)) {
    peer.set(MAPPED, 0);
    for (const [i, part] of address.split('.').entries()) peer[12 + i] = Number(part);
  } else if (!ipv6TextIntoBytes(address, peer, 0)) {
    return null;
  }
  peer[16] = port >> 8;
  peer[17] = port & 0xff;
  if (peers.size < 4096) peers.set(key, peer);
  return peer;
}
