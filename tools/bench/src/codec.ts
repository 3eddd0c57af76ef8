// Codec benchmark: handoff v1 decode and encode, Geneve encapsulation and decapsulation, each as
// operations per second (min/median/max over rounds) and minor GCs per million operations.
import {
  DatagramView,
  EntryBatchWriter,
  MessageType,
  Protocol,
  createEntry,
  datagram,
  inspectDatagram,
  maxDatagramLength,
  readEntry,
  type HandoffEntry,
} from '@nat64/handoff-codec';
import { GeneveView, Ipv4Encapsulator, MappingEvent, createReceivePolicy, decapsulate } from '@nat64/geneve';
import { measureOps, type OpsResult } from './measure.js';
import { printTable, rate, writeResults } from './report.js';

function sampleEntry(i: number): HandoffEntry {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8]);
  clientAddress[15] = i;
  return {
    protocol: Protocol.TCP,
    reason: 0,
    natAddress: 0xc0000207,
    natPort: 1000 + i,
    clientAddress,
    clientPort: 40000 + i,
    serverAddress: 0xc633640a,
    serverPort: 443,
    time: 1_552_903_588_436_754,
  };
}

function createdDatagram(entries: number): Buffer {
  const writer = new EntryBatchWriter({ maxLength: maxDatagramLength(1500) });
  writer.setSession(0x0123456789abcdefn, 0x1111222233334444n);
  const buffer = Buffer.alloc(maxDatagramLength(1500));
  writer.begin(buffer, 0, MessageType.CREATED, 1);
  for (let i = 0; i < entries; i++) writer.append(sampleEntry(i));
  return buffer.subarray(0, writer.finish());
}

export async function runCodecBenchmark(): Promise<Record<string, OpsResult>> {
  const results: Record<string, OpsResult> = {};
  const view = new DatagramView();
  const entry = createEntry();
  for (const count of [1, 35]) {
    const bytes = createdDatagram(count);
    results[`handoff decode CREATED x${count} (inspect+readEntry)`] = await measureOps(() => {
      inspectDatagram(bytes, 0, bytes.length, view);
      for (let i = 0; i < view.count; i++) readEntry(bytes, view.entriesOffset + i * 40, entry);
    });
    results[`handoff decode CREATED x${count} (datagram.decode)`] = await measureOps(() => datagram.decode(bytes, 0, bytes.length), { opsPerRound: 200_000 });
    const writer = new EntryBatchWriter({ maxLength: maxDatagramLength(1500) });
    writer.setSession(1n, 2n);
    const out = Buffer.alloc(maxDatagramLength(1500));
    const entries = Array.from({ length: count }, (_, i) => sampleEntry(i));
    results[`handoff encode CREATED x${count} (batch writer)`] = await measureOps((i) => {
      writer.begin(out, 0, MessageType.CREATED, i >>> 0);
      for (const item of entries) writer.append(item);
      return writer.finish();
    });
  }
  const mapping = {
    protocol: 17,
    event: MappingEvent.CREATED,
    natAddress: 0xc633640a,
    natPort: 40000,
    clientAddress: sampleEntry(1).clientAddress,
    clientPort: 5353,
    creationTimeUs: 1_700_000_000_123_456,
  };
  for (const size of [64, 1400]) {
    const encapsulator = new Ipv4Encapsulator({ vni: 7, source: 0xc0000201 });
    const packet = new Uint8Array(encapsulator.headroom + size);
    packet.set([0x45, 0, size >> 8, size & 0xff, 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 10, 203, 0, 113, 5, 0x9c, 0x40, 0, 53], encapsulator.headroom);
    results[`geneve encap IPv4 ${size}B + mapping`] = await measureOps(() =>
      encapsulator.encapsulate(packet, encapsulator.headroom, size, 0xcb007105, mapping),
    );
    const start = encapsulator.encapsulate(packet, encapsulator.headroom, size, 0xcb007105, mapping);
    const geneveView = new GeneveView();
    const policy = createReceivePolicy({});
    const udp = start + 28;
    results[`geneve decap ${size}B + mapping`] = await measureOps(() => decapsulate(packet, udp, packet.length - udp, geneveView, policy));
  }
  return results;
}

async function main(): Promise<void> {
  const results = await runCodecBenchmark();
  printTable(
    'Codecs (one core)',
    ['operation', 'min/s', 'median/s', 'max/s', 'GC/1M ops'],
    Object.entries(results).map(([name, result]) => [
      name,
      rate(result.opsPerSecond.min),
      rate(result.opsPerSecond.median),
      rate(result.opsPerSecond.max),
      result.scavengesPerMillion.toFixed(1),
    ]),
  );
  console.log(`\nwrote ${writeResults('codec', results)}`);
}

await main();
