// Makes one of every NAT64 handoff datagram for the Wireshark dissector's test, with the project's
// own codecs and real sockets, inside the test's namespace (which holds the addresses on its lo):
// a gateway 192.0.2.7 that talks to the receiver on 198.51.100.10 (HELLO, HELLO-ACK, CREATED,
// DELETED, ACK, QUERY and ANSWER found and not found, RELEASE and its ACK), a gateway 192.0.2.9 that
// talks to the receiver with a key on 198.51.100.11 (tagged), Geneve packets to 198.51.100.10:6081
// (a control packet carrying a HELLO, a data packet with mapping and authentication options, a
// control packet with a Deleted mapping), and one malformed datagram from source port 40000.
// Prints what it sent as JSON on stdout.
//   node wireshark-traffic.mjs KEY_HEX
import { createSocket } from 'node:dgram';
import { GatewayClient } from '../../../handoff-sim/dist/index.js';
import { Capability, HANDOFF_VERSION, MessageType, Protocol, datagram } from '../../../../packages/handoff-codec/dist/index.js';
import { GeneveWriter, MappingEvent } from '../../../../packages/geneve/dist/index.js';

const key = Buffer.from(process.argv[2], 'hex');
const GATEWAY = 0xc0000207; // 192.0.2.7
const TAGGED_GATEWAY = 0xc0000209; // 192.0.2.9
const SERVER = 0xc633640a; // 198.51.100.10
const client = (last) => Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last]);
const entry = (natAddress, natPort, last, clientPort) => ({
  protocol: Protocol.TCP,
  reason: 0,
  natAddress,
  natPort,
  clientAddress: client(last),
  clientPort,
  serverAddress: SERVER,
  serverPort: 443,
  time: Date.UTC(2019, 2, 18, 10, 6, 28) * 1000 + 491727,
});

async function send(socket, bytes, port, address) {
  await new Promise((resolve, reject) => socket.send(bytes, port, address, (error) => (error ? reject(error) : resolve())));
}

const gateway = await GatewayClient.open({ receiverAddress: '198.51.100.10', natAddress: GATEWAY, initialRtoMs: 200 });
await gateway.hello();
await gateway.send(MessageType.CREATED, [entry(GATEWAY, 3719, 0x17, 53186), entry(GATEWAY, 12191, 0x3, 53716)]);
await gateway.send(MessageType.DELETED, [{ ...entry(GATEWAY, 3719, 0x17, 53186), reason: 2 }]);
const found = await gateway.query(Protocol.TCP, 12191, SERVER, 443);
const notFound = await gateway.query(Protocol.TCP, 9, SERVER, 443);
// The receiver ends the idle entry (--idle-timeout 1s) and tells the gateway: RELEASE, then our ACK.
for (let waited = 0; gateway.released.length === 0; waited += 100) {
  if (waited > 20_000) throw new Error('no RELEASE from the receiver');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await new Promise((resolve) => setTimeout(resolve, 300));
await gateway.close();

const tagged = await GatewayClient.open({ receiverAddress: '198.51.100.11', natAddress: TAGGED_GATEWAY, key, initialRtoMs: 200 });
await tagged.hello();
await tagged.send(MessageType.CREATED, [entry(TAGGED_GATEWAY, 47102, 0x55, 34643)]);
await tagged.close();

// Geneve, from the gateway's port 6081 (geneve-options section 6.1).
const geneve = createSocket('udp4');
await new Promise((resolve) => geneve.bind({ address: '192.0.2.7', port: 6081 }, resolve));
const vni = 0x2a0b1c;
const hello = {
  type: MessageType.HELLO,
  version: HANDOFF_VERSION,
  flags: 0,
  epoch: 0x1122334455667788n,
  cookie: 0n,
  sequence: 77,
  natAddress: GATEWAY,
  capabilities: Capability.HANDOFF_V1 | Capability.GENEVE,
};
const control = new GeneveWriter({ vni: 0 });
let buffer = Buffer.alloc(512);
const length = datagram.encode(hello, buffer, 256) - 256;
let start = control.writeControl(buffer, 256, length, null);
await send(geneve, buffer.subarray(start, 256 + length), 6081, '198.51.100.10');

const authenticated = new GeneveWriter({ vni, auth: { keyId: 7, secret: key } });
const mapping = {
  protocol: Protocol.UDP,
  event: MappingEvent.CREATED,
  natAddress: GATEWAY,
  natPort: 28965,
  clientAddress: client(0x5),
  clientPort: 41660,
  creationTimeUs: Date.UTC(2019, 2, 18, 11, 41, 6) * 1000 + 362189,
};
// The inner packet: IPv4/UDP from the NAT address and port to the server, 4 bytes of payload.
const inner = Buffer.from('4500002000004000401100000000000000000000712501bb000c000074657374', 'hex');
inner.writeUInt32BE(GATEWAY, 12);
inner.writeUInt32BE(SERVER, 16);
let sum = 0;
for (let i = 0; i < 20; i += 2) sum += inner.readUInt16BE(i);
while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
inner.writeUInt16BE(~sum & 0xffff, 10);
buffer = Buffer.alloc(512);
inner.copy(buffer, 256);
start = authenticated.writeData(buffer, 256, inner.length, mapping);
await send(geneve, buffer.subarray(start, 256 + inner.length), 6081, '198.51.100.10');

buffer = Buffer.alloc(512);
start = authenticated.writeControl(buffer, 256, 0, { ...mapping, event: MappingEvent.DELETED });
await send(geneve, buffer.subarray(start, 256), 6081, '198.51.100.10');
geneve.close();

// Malformed: a CREATED whose Length promises an entry the datagram does not hold.
const bad = createSocket('udp4');
await new Promise((resolve) => bad.bind({ address: '192.0.2.7', port: 40000 }, resolve));
const truncated = Buffer.alloc(32);
truncated.writeUInt8(1, 0);
truncated.writeUInt8(MessageType.CREATED, 1);
truncated.writeUInt16BE(72, 2);
truncated.writeUInt16BE(1, 28);
await send(bad, truncated, 62863, '198.51.100.10');
bad.close();

console.log(
  JSON.stringify({
    epoch: gateway.epoch.toString(16).padStart(16, '0'),
    cookie: gateway.cookie.toString(16).padStart(16, '0'),
    taggedEpoch: tagged.epoch.toString(16).padStart(16, '0'),
    found: found.status,
    notFound: notFound.status,
    released: gateway.released.length,
    vni,
  }),
);
