import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BypassEncapsulator, GeneveWriter, NEIGHBOR_FRAME_LENGTH, writeNeighborSolicitation } from '@nat64/geneve';
import { waitFor } from '@nat64/netlab';
import { silentLogger } from '@nat64/service';
import { FakeTun } from '@nat64/tun';
import ipaddr from 'ipaddr.js';
import { loadReceiverConfig, startReceiver, type ReceiverDaemon } from '../../src/index.js';
import { FakeNetwork, FakeTap } from './support.js';

const TARGET = Uint8Array.from(ipaddr.parse('64:ff9b::7f00:1').toByteArray()); // PREFIX::127.0.0.1
const VNI = 0x48b25c;

function offer(): Buffer {
  const frame = Buffer.alloc(NEIGHBOR_FRAME_LENGTH);
  writeNeighborSolicitation(frame, 0, {
    sourceMac: Uint8Array.from([2, 0, 0, 0, 0, 1]),
    source: Uint8Array.from(ipaddr.parse('fe80::1').toByteArray()),
    target: TARGET,
  });
  const encapsulator = new BypassEncapsulator({ vni: VNI, message: 'from the test' });
  const packet = Buffer.alloc(encapsulator.headerLength + frame.length);
  frame.copy(packet, encapsulator.headerLength);
  encapsulator.encapsulate(packet, encapsulator.headerLength, frame.length);
  return packet;
}

/** An empty Geneve control packet of our mapping transport (class 0xFF64). */
function mappingTransportPacket(): Buffer {
  const writer = new GeneveWriter({ vni: 0 });
  const packet = Buffer.alloc(writer.maxHeaderLength);
  return packet.subarray(writer.writeControl(packet, writer.maxHeaderLength, 0, null));
}

describe('bypass in the daemon', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(transport: string) {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-receiver-bypass-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadReceiverConfig({
      flags: {
        listen: ['127.0.0.1'],
        port: 0,
        genevePort: 0,
        transport,
        allow: ['127.0.0.1'],
        database: join(dir, 'c.db'),
        connectionLog: join(dir, 'c.log'),
        control: join(dir, 'c.sock'),
        logLevel: 'silent',
      },
    });
    const taps: FakeTap[] = [];
    const network = new FakeNetwork();
    const daemon: ReceiverDaemon = await startReceiver(config, silentLogger(), {
      openDevice: () => new FakeTun(),
      bypass: {
        openDevice: (name, mtu) => {
          const tap = new FakeTap(name, mtu);
          taps.push(tap);
          return tap;
        },
        network,
        localIpv4: () => new Set([0x7f000001]),
      },
    });
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await daemon.close();
    });
    const socket: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const port = Number(daemon.bypass!.transport.bound[0]!.split(':').at(-1));
    return {
      daemon,
      taps,
      network,
      send: (packet: Buffer) => socket.send(packet, port, '127.0.0.1'),
      counter: (name: string) =>
        (daemon.bypass!.service.counters(true).find((c) => c.name === name) ?? daemon.counters.snapshot({ all: true }).find((c) => c.name === name))!.value,
      lines: () =>
        existsSync(config.connectionLog)
          ? readFileSync(config.connectionLog, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((line) => line.slice(27))
          : [],
      close: async () => {
        closed = true;
        await daemon.close();
      },
    };
  }

  it('shares UDP 6081 with our mapping transport: bypass packets reach the bypass endpoint, the rest the Geneve endpoint', async () => {
    const r = await start('geneve,bypass');
    r.send(offer());
    r.send(mappingTransportPacket());
    await waitFor('both packets', () => r.counter('bypassOffers') === 1 && r.counter('geneveControl') === 1, 2000);
    expect(r.taps).toHaveLength(1);
    expect(r.taps[0]!.written).toHaveLength(1);
    expect(r.network.calls.filter((call) => call.startsWith('up'))).toEqual([
      expect.stringMatching(/^up nat64bp0 \S+ 64:ff9b::7f00:1 via fe80::1 table 6400$/),
    ]);
    expect(r.lines()).toEqual(['Bypass offered by 127.0.0.1 "from the test"', 'Tunnel up 127.0.0.1 vni 0x48b25c 64:ff9b::7f00:1 dev nat64bp0']);
    await r.close();
    expect(r.lines().at(-1)).toBe('Tunnel down 127.0.0.1 vni 0x48b25c (receiver stopped)');
    expect(r.taps[0]!.closed).toBe(true);
  });

  it('with bypass alone, counts and drops Geneve packets of our mapping transport', async () => {
    const r = await start('bypass');
    expect(r.daemon.transport).toBeUndefined();
    expect(r.daemon.geneve).toBeUndefined();
    r.send(mappingTransportPacket());
    r.send(offer());
    await waitFor('both packets', () => r.counter('bypassOtherGeneve') === 1 && r.counter('bypassOffers') === 1, 2000);
    expect(r.counter('geneveControl')).toBe(0);
  });
});
