// Floods small UDP datagrams towards 192.0.2.2 (routed into the TUN under test) until killed,
// and reports how many it offered when asked (SIGUSR2 prints the count). Two ways:
//   udp  dgram.send from a socket, the way local traffic reaches the device;
//   tun  writeBatch into a second TUN device; the kernel forwards the packets into the one
//        under test. Cheaper per packet than a socket, so it can offer more.
// Run by rx-throughput.mjs inside its namespace: node flood.mjs <udp|tun> <payload bytes>
import dgram from 'node:dgram';
import { openTun } from '../dist/index.js';

const [mode = 'udp', payloadText = '18'] = process.argv.slice(2);
const payload = Buffer.alloc(Number(payloadText), 0x61);
let offered = 0;

process.on('SIGUSR2', () => process.stdout.write(`${offered}\n`));
// Only now may the parent signal us: before the handler, SIGUSR2 would end the process.
process.send?.('ready');

function checksum(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** IPv4 UDP 198.51.100.1:port -> 192.0.2.2:9, UDP checksum 0 (none, RFC 768). */
function packet(sourcePort) {
  const bytes = Buffer.alloc(28 + payload.length);
  bytes[0] = 0x45;
  bytes.writeUInt16BE(bytes.length, 2);
  bytes[8] = 64;
  bytes[9] = 17;
  bytes.set([198, 51, 100, 1, 192, 0, 2, 2], 12);
  bytes.writeUInt16BE(checksum(bytes.subarray(0, 20)), 10);
  bytes.writeUInt16BE(sourcePort, 20);
  bytes.writeUInt16BE(9, 22);
  bytes.writeUInt16BE(8 + payload.length, 24);
  payload.copy(bytes, 28);
  return bytes;
}

if (mode === 'udp') {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '192.0.2.1', () => {
    const burst = () => {
      for (let i = 0; i < 256; i++) socket.send(payload, 9, '192.0.2.2');
      offered += 256;
      setImmediate(burst);
    };
    burst();
  });
} else {
  const device = openTun({ name: process.env.FLOOD_TUN ?? 'tunsrc', up: true });
  const count = 64;
  const one = packet(10_000).length;
  const buffer = Buffer.alloc(count * one);
  for (let i = 0; i < count; i++) packet(10_000 + i).copy(buffer, i * one);
  const offsets = Uint32Array.from({ length: count }, (_, i) => i * one);
  const lengths = new Uint32Array(count).fill(one);
  const burst = () => {
    for (let round = 0; round < 16; round++) offered += device.writeBatch(buffer, offsets, lengths, count);
    setImmediate(burst);
  };
  burst();
}
