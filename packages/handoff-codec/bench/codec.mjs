// Throughput of the handoff codec: `pnpm --filter @nat64/handoff-codec build && node
// packages/handoff-codec/bench/codec.mjs`. Prints operations per second; asserts nothing.
import {
  DatagramView,
  DecodeStatus,
  EntryBatchWriter,
  MessageType,
  Size,
  createEntry,
  datagram,
  inspectDatagram,
  readEntry,
  signDatagram,
  verifyDatagram,
} from '../dist/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

function sampleEntry(i) {
  const clientAddress = new Uint8Array(16);
  clientAddress.set([0x20, 0x01, 0x0d, 0xb8], 0);
  clientAddress[15] = i & 0xff;
  return {
    protocol: 6,
    reason: 0,
    natAddress: 0xc0000201,
    natPort: 40000 + i,
    clientAddress,
    clientPort: 50000 + i,
    serverAddress: 0xcb007105,
    serverPort: 443,
    time: 1_552_903_588_000_000 + i,
  };
}

function created(count) {
  const message = {
    type: MessageType.CREATED,
    version: 1,
    flags: 0,
    epoch: 0x0123456789abcdefn,
    cookie: 0xfedcba9876543210n,
    sequence: 1,
    entries: Array.from({ length: count }, (_, i) => sampleEntry(i)),
  };
  const buf = new Uint8Array(datagram.encodingLength(message));
  datagram.encode(message, buf, 0);
  return { message, buf };
}

function measure(name, unitsPerOp, op) {
  for (let i = 0; i < 20_000; i++) op();
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) op();
    ops += 1000;
    now = process.hrtime.bigint();
  }
  const perSecond = ops / (Number(now - start) / 1e9);
  const units = unitsPerOp > 1 ? `, ${((perSecond * unitsPerOp) / 1e6).toFixed(2)} M entries/s` : '';
  console.log(`${name.padEnd(44)} ${(perSecond / 1e6).toFixed(2)} M/s${units}`);
}

const view = new DatagramView();
const out = createEntry();
let sink = 0;

for (const count of [1, 35]) {
  const { message, buf } = created(count);
  measure(`inspect+readEntry CREATED x${count}`, count, () => {
    if (inspectDatagram(buf, 0, buf.length, view) !== DecodeStatus.OK) throw new Error('bad');
    for (let i = 0, at = view.entriesOffset; i < view.count; i++, at += Size.ENTRY) {
      readEntry(buf, at, out);
      sink += out.natPort;
    }
  });
  measure(`datagram.decode CREATED x${count}`, count, () => {
    sink += datagram.decode(buf, 0, buf.length).sequence;
  });
  const target = new Uint8Array(buf.length + Size.TAG);
  measure(`datagram.encode CREATED x${count}`, count, () => {
    sink += datagram.encode(message, target, 0);
  });
  const writer = new EntryBatchWriter({ maxLength: 1472 });
  writer.setSession(message.epoch, message.cookie);
  measure(`EntryBatchWriter CREATED x${count}`, count, () => {
    writer.begin(target, 0, MessageType.CREATED, 1);
    for (const item of message.entries) writer.append(item);
    sink += writer.finish();
  });
}

const { buf } = created(35);
const key = new Uint8Array(32).fill(7);
const tagged = new Uint8Array(buf.length + Size.TAG);
measure('signDatagram CREATED x35', 1, () => {
  tagged.set(buf);
  sink += signDatagram(tagged, 0, buf.length, key);
});
measure('verifyDatagram CREATED x35', 1, () => {
  sink += verifyDatagram(tagged, 0, tagged.length, key) ? 1 : 0;
});
const garbage = new Uint8Array(1472);
for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff;
garbage[0] = 1;
measure('inspect garbage (version 1)', 1, () => {
  sink += inspectDatagram(garbage, 0, garbage.length, view);
});
if (sink === 0.5) console.log(sink);
