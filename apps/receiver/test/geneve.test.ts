import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeTun } from '@nat64/tun';
import { GeneveView, GeneveWriter, MappingEvent, createReceivePolicy, decapsulate, type MappingOption } from '@nat64/geneve';
import { Capability, HANDOFF_VERSION, MessageType, datagram, type HandoffMessage } from '@nat64/handoff-codec';
import { silentLogger } from '@nat64/service';
import { uint32ToIpv4Text } from '@nat64/wire';
import { waitFor } from '@nat64/netlab';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { loadReceiverConfig, startReceiver, type ReceiverDaemon } from '../src/index.js';
import { loopback } from './support/receiver.js';

const HOST = 0x7f000001; // 127.0.0.1, the receiver's host

/** A gateway that speaks to the receiver only through Geneve on its port, as in geneve mode. */
class GeneveGateway {
  readonly epoch = randomBytes(8).readBigUInt64BE(0);
  cookie = 0n;
  capabilities = 0;
  private readonly replies: Buffer[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly natAddress: number,
    private readonly port: number,
    private readonly key?: { keyId: number; secret: Uint8Array },
  ) {
    socket.on('message', (bytes) => this.replies.push(bytes));
  }

  static async open(natAddress: number, port: number, key?: { keyId: number; secret: Uint8Array }): Promise<GeneveGateway> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: uint32ToIpv4Text(natAddress), port: 0 }, () => resolve()));
    return new GeneveGateway(socket, natAddress, port, key);
  }

  private writer(vni: number): GeneveWriter {
    return new GeneveWriter({ vni, ...(this.key ? { auth: this.key } : {}) });
  }

  private send(bytes: Uint8Array): void {
    this.socket.send(bytes, this.port, '127.0.0.1');
  }

  control(message: HandoffMessage | null, mapping: MappingOption | null, vni = Number(this.cookie & 0xffffffn)): void {
    const writer = this.writer(vni);
    const payload = message ? Buffer.alloc(datagram.encodingLength(message)) : Buffer.alloc(0);
    if (message) datagram.encode(message, payload, 0);
    const packet = Buffer.alloc(writer.maxHeaderLength + payload.length);
    payload.copy(packet, writer.maxHeaderLength);
    this.send(packet.subarray(writer.writeControl(packet, writer.maxHeaderLength, payload.length, mapping)));
  }

  data(inner: Uint8Array, mapping: MappingOption | null, vni = Number(this.cookie & 0xffffffn)): void {
    const writer = this.writer(vni);
    const packet = Buffer.alloc(writer.maxHeaderLength + inner.length);
    packet.set(inner, writer.maxHeaderLength);
    this.send(packet.subarray(writer.writeData(packet, writer.maxHeaderLength, inner.length, mapping)));
  }

  /** The HELLO exchange inside Geneve control packets; returns the receiver's HELLO-ACK. */
  async hello(): Promise<void> {
    const hello = (cookie: bigint): HandoffMessage => ({
      type: MessageType.HELLO,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: this.epoch,
      cookie,
      sequence: 7,
      natAddress: this.natAddress,
      capabilities: Capability.GENEVE,
    });
    this.control(hello(0n), null, 0);
    const reply = await this.nextReply();
    if (reply.type !== MessageType.HELLO_ACK) throw new Error('no HELLO-ACK');
    this.cookie = reply.cookie;
    this.capabilities = reply.capabilities;
    this.control(hello(this.cookie), null);
    await this.nextReply();
  }

  /** The next handoff message the receiver sent back inside a Geneve control packet. */
  async nextReply(): Promise<HandoffMessage> {
    await waitFor('a reply', () => this.replies.length > 0, 2000);
    const bytes = this.replies.shift()!;
    const view = new GeneveView();
    const policy = createReceivePolicy(this.key ? { authKeys: new Map([[this.key.keyId, this.key.secret]]) } : {});
    expect(decapsulate(bytes, 0, bytes.length, view, policy)).toBe(1);
    expect(view.oam).toBe(true);
    return datagram.decode(bytes, view.payloadOffset, view.payloadLength);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function udpPacket(source: number, destination: number, sourcePort: number, destinationPort: number): Uint8Array {
  const packet = Buffer.alloc(28 + 4);
  packet.set([0x45, 0, 0, 32, 0, 1, 0x40, 0, 64, 17, 0, 0]);
  packet.writeUInt32BE(source, 12);
  packet.writeUInt32BE(destination, 16);
  packet.writeUInt16BE(sourcePort, 20);
  packet.writeUInt16BE(destinationPort, 22);
  packet.writeUInt16BE(12, 24);
  packet.write('ping', 28);
  return packet;
}

function mapping(natAddress: number, natPort: number, event: MappingOption['event'], who: number, creationTimeUs: number): MappingOption {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[15] = who;
  return { protocol: 17, event, natAddress, natPort, clientAddress, clientPort: 40000 + who, creationTimeUs };
}

describe('receiver over Geneve', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(flags: Record<string, unknown> = {}): Promise<{ daemon: ReceiverDaemon; device: FakeTun; port: number; lines(): string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-geneve-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadReceiverConfig({
      flags: {
        listen: ['127.0.0.1'],
        port: 0,
        genevePort: 0,
        transport: 'geneve',
        database: join(dir, 'c.db'),
        connectionLog: join(dir, 'c.log'),
        control: join(dir, 'c.sock'),
        logLevel: 'silent',
        ...flags,
      },
    });
    const device = new FakeTun();
    const daemon = await startReceiver(config, silentLogger(), { openDevice: () => device });
    cleanups.push(() => daemon.close());
    const port = Number(daemon.geneve!.transport.bound[0]!.split(':').at(-1));
    const lines = () =>
      existsSync(config.connectionLog)
        ? readFileSync(config.connectionLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => line.slice(27))
        : [];
    return { daemon, device, port, lines };
  }

  async function gateway(n: number, port: number, key?: { keyId: number; secret: Uint8Array }): Promise<GeneveGateway> {
    const client = await GeneveGateway.open(loopback(n), port, key);
    cleanups.push(() => client.close());
    return client;
  }

  it('runs the HELLO exchange in control packets, logs mappings from data packets and delivers their inner packets', async () => {
    const receiver = await start();
    expect(receiver.daemon.transport).toBeUndefined();
    const g = await gateway(80, receiver.port);
    await g.hello();
    expect(g.capabilities & Capability.GENEVE).toBe(Capability.GENEVE);
    const T = Date.now() * 1000;
    const inner = udpPacket(loopback(80), HOST, 5000, 53);
    g.data(inner, mapping(loopback(80), 5000, MappingEvent.CREATED, 1, T));
    g.data(inner, mapping(loopback(80), 5000, MappingEvent.CREATED, 1, T)); // repeated on the first packets
    g.data(inner, null);
    await waitFor('three deliveries', () => receiver.device.written.length === 3, 2000);
    expect(receiver.device.written[0]).toEqual(inner);
    await waitFor('the Created line', () => receiver.lines().length === 2, 2000);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.80', 'Created 127.0.0.80:5000 [2001:db8::1]:40001']);
    // A new incarnation on the port replaces it; a late Refresh of the old one changes nothing.
    g.data(inner, mapping(loopback(80), 5000, MappingEvent.CREATED, 2, T + 10));
    await waitFor('the replacement', () => receiver.lines().length === 4, 2000);
    g.data(inner, mapping(loopback(80), 5000, MappingEvent.REFRESH, 1, T));
    await waitFor('the stale Refresh', () => receiver.daemon.counters.get('staleMappingEvents') === 1, 2000);
    // Deleted without a data packet: a control packet with only the mapping option.
    g.control(null, mapping(loopback(80), 5000, MappingEvent.DELETED, 2, T + 10));
    await waitFor('the Deleted line', () => receiver.lines().length === 5, 2000);
    expect(receiver.lines().slice(2)).toEqual([
      'Deleted 127.0.0.80:5000 [2001:db8::1]:40001',
      'Created 127.0.0.80:5000 [2001:db8::2]:40002',
      'Deleted 127.0.0.80:5000 [2001:db8::2]:40002',
    ]);
    // A late Created of the deleted incarnation does not resurrect it (tombstone).
    g.data(inner, mapping(loopback(80), 5000, MappingEvent.CREATED, 2, T + 10));
    await waitFor('the stale Created', () => receiver.daemon.counters.get('staleMappingEvents') === 2, 2000);
    expect(receiver.lines()).toHaveLength(5);
  });

  it('answers queries and acknowledges CREATED sent as handoff messages inside control packets', async () => {
    const receiver = await start();
    const g = await gateway(81, receiver.port);
    await g.hello();
    const created = entry({ protocol: 17, natAddress: loopback(81), natPort: 700, who: 3, serverAddress: HOST, serverPort: 53 });
    g.control({ type: MessageType.CREATED, version: HANDOFF_VERSION, flags: 0, epoch: g.epoch, cookie: g.cookie, sequence: 1, entries: [created] }, null);
    const ack = await g.nextReply();
    expect(ack).toMatchObject({ type: MessageType.ACK, cumulative: 1 });
    g.control(
      {
        type: MessageType.QUERY,
        version: HANDOFF_VERSION,
        flags: 0,
        epoch: g.epoch,
        cookie: g.cookie,
        sequence: 9,
        protocol: 17,
        natPort: 700,
        natAddress: loopback(81),
        serverAddress: HOST,
        serverPort: 53,
      },
      null,
    );
    expect(await g.nextReply()).toMatchObject({ type: MessageType.ANSWER, status: 0, sequence: 9, entry: { natPort: 700, clientPort: 40003 } });
  });

  it('refuses data packets from a gateway without an epoch, with another VNI, or with an inner source that is not its NAT address', async () => {
    const receiver = await start();
    const stranger = await gateway(82, receiver.port);
    stranger.data(udpPacket(loopback(82), HOST, 1, 2), mapping(loopback(82), 1, MappingEvent.CREATED, 1, 5), 0);
    const g = await gateway(83, receiver.port);
    await g.hello();
    g.data(udpPacket(loopback(83), HOST, 1, 2), mapping(loopback(83), 1, MappingEvent.CREATED, 1, 5), Number(g.cookie & 0xffffffn) ^ 1);
    g.data(udpPacket(0xc0000201, HOST, 1, 2), null);
    await waitFor('the drops', () => receiver.daemon.counters.get('geneveUnknownSender') === 2 && receiver.daemon.counters.get('geneveInnerRefused') === 1);
    expect(receiver.device.written).toEqual([]);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.83']);
  });

  it('requires the authentication option when a key is configured', async () => {
    const secret = randomBytes(32);
    const receiver = await start({ keys: [{ gateways: '127.0.0.0/8', key: secret.toString('hex'), keyId: 4 }] });
    const untagged = await gateway(84, receiver.port);
    untagged.control(
      { type: MessageType.HELLO, version: HANDOFF_VERSION, flags: 0, epoch: 1n, cookie: 0n, sequence: 1, natAddress: loopback(84), capabilities: 2 },
      null,
      0,
    );
    await waitFor('the drop', () => receiver.daemon.counters.get('geneveDropped') === 1);
    const keyed = await gateway(85, receiver.port, { keyId: 4, secret });
    // The tunnel's authentication covers the handoff datagram inside: it needs no tag of its own.
    await keyed.hello();
    keyed.data(udpPacket(loopback(85), HOST, 1, 2), mapping(loopback(85), 1, MappingEvent.CREATED, 1, 5));
    await waitFor('the delivery', () => receiver.device.written.length === 1);
    const wrongKey = await gateway(86, receiver.port, { keyId: 4, secret: randomBytes(32) });
    wrongKey.control(
      { type: MessageType.HELLO, version: HANDOFF_VERSION, flags: 0, epoch: 1n, cookie: 0n, sequence: 1, natAddress: loopback(86), capabilities: 2 },
      null,
      0,
    );
    await waitFor('the second drop', () => receiver.daemon.counters.get('geneveDropped') === 2);
    await waitFor('the Created line', () => receiver.lines().length === 2);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.85', 'Created 127.0.0.85:1 [2001:db8::1]:40001']);
  });
});
