import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { openUdp, PEER_RECORD_SIZE, TunError, type BatchedUdpSocket } from '../src/index.js';

const open: BatchedUdpSocket[] = [];
afterEach(() => {
  for (const socket of open.splice(0)) socket.close();
});

/** The peer record of 127.0.0.1:port. */
function loopbackPeer(port: number): Uint8Array {
  const peer = new Uint8Array(PEER_RECORD_SIZE);
  peer.set([0xff, 0xff, 127, 0, 0, 1], 10);
  peer[16] = port >> 8;
  peer[17] = port & 0xff;
  return peer;
}

function nextBatch(socket: BatchedUdpSocket): Promise<{ datagrams: string[]; peers: number[][] }> {
  return new Promise((resolve) => {
    const datagrams: string[] = [];
    const peers: number[][] = [];
    socket.start((count) => {
      const { buffer, slotSize, lengths, peers: records } = socket.rx;
      for (let i = 0; i < count; i++) {
        datagrams.push(buffer.toString('utf8', i * slotSize, i * slotSize + lengths[i]!));
        peers.push([...records.subarray(i * PEER_RECORD_SIZE, (i + 1) * PEER_RECORD_SIZE)]);
      }
      if (datagrams.length >= 3) resolve({ datagrams, peers });
    });
  });
}

describe('openUdp', () => {
  it('sends a batch to one peer with one call and reads datagrams with their source as a peer record', async () => {
    const receiver = openUdp({ address: '127.0.0.1', port: 47_811 });
    const sender = openUdp({ address: '127.0.0.1', port: 47_812 });
    open.push(receiver, sender);
    const got = nextBatch(receiver);
    const buffer = Buffer.from('..one..two..three');
    const sent = sender.sendBatch(buffer, Uint32Array.of(2, 7, 12), Uint32Array.of(3, 3, 5), 3, loopbackPeer(47_811));
    expect(sent).toBe(3);
    const { datagrams, peers } = await got;
    expect(datagrams).toEqual(['one', 'two', 'three']);
    expect(peers[0]).toEqual([...loopbackPeer(47_812)]);
    expect(sender.counters.txPackets).toBe(3);
    expect(receiver.counters.rxPackets).toBe(3);
    expect(receiver.counters.rxBatches).toBeLessThanOrEqual(3);
  });

  it('receives what a dgram socket sends, and skips and counts a datagram larger than a slot', async () => {
    const receiver = openUdp({ address: '127.0.0.1', port: 47_813, slotSize: 64 });
    open.push(receiver);
    const got = nextBatch(receiver);
    const client = createSocket('udp4');
    for (const payload of ['a', 'x'.repeat(65), 'b', 'c']) await new Promise<void>((resolve) => client.send(payload, 47_813, '127.0.0.1', () => resolve()));
    const { datagrams } = await got;
    client.close();
    expect(datagrams).toEqual(['a', 'b', 'c']);
    expect(receiver.counters.rxTruncated).toBe(1);
  });

  it('counts a send an IPv4 socket cannot make (an IPv6 peer) as rejected, without throwing', () => {
    const socket = openUdp({ address: '127.0.0.1', port: 47_814 });
    open.push(socket);
    const peer = new Uint8Array(PEER_RECORD_SIZE);
    peer[15] = 1;
    expect(socket.sendBatch(Buffer.from('x'), Uint32Array.of(0), Uint32Array.of(1), 1, peer)).toBe(0);
    expect(socket.counters.txRejected).toBe(1);
  });

  it('throws a TunError naming the errno when the port is taken', () => {
    const first = openUdp({ address: '127.0.0.1', port: 47_815 });
    open.push(first);
    expect(() => openUdp({ address: '127.0.0.1', port: 47_815 })).toThrow(TunError);
    expect(() => openUdp({ address: '127.0.0.1', port: 47_815 })).toThrow(/EADDRINUSE|bind/);
  });
});
