import { afterEach, describe, expect, it } from 'vitest';
import { AnswerStatus, HANDOFF_VERSION, MessageType, Protocol } from '@nat64/handoff-codec';
import { waitFor } from '@nat64/netlab';
import { manualMicroClock } from '@nat64/service';
import { client, entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';
import { RawGateway } from './support/raw-gateway.js';
import { encodeDatagram } from '../../../packages/handoff-receiver/test/support/datagrams.js';

const SECOND_US = 1_000_000;

function hello(natAddress: number, epoch: bigint, cookie = 0n, sequence = 1): Buffer {
  return encodeDatagram({ version: HANDOFF_VERSION, flags: 0, type: MessageType.HELLO, epoch, cookie, sequence, natAddress, capabilities: 1 });
}

function query(natAddress: number, epoch: bigint, cookie: bigint, sequence: number): Buffer {
  return encodeDatagram({
    version: HANDOFF_VERSION,
    flags: 0,
    type: MessageType.QUERY,
    epoch,
    cookie,
    sequence,
    protocol: Protocol.TCP,
    natPort: 7,
    natAddress,
    serverAddress: 0xc633640a,
    serverPort: 80,
  });
}

function clientQuery(natAddress: number, epoch: bigint, cookie: bigint, sequence: number): Buffer {
  return encodeDatagram({
    version: HANDOFF_VERSION,
    flags: 0,
    type: MessageType.CLIENT_QUERY,
    epoch,
    cookie,
    sequence,
    protocol: Protocol.TCP,
    natAddress,
    clientAddress: client(1),
    clientPort: 40000,
    serverAddress: 0xc633640a,
    serverPort: 80,
  });
}

describe('receiver reply rate limits', () => {
  const receivers: TestReceiver[] = [];
  const sockets: RawGateway[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) await socket.close();
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });
  async function raw(receiver: TestReceiver, natAddress: number): Promise<RawGateway> {
    const socket = await RawGateway.open(natAddress, receiver.port);
    sockets.push(socket);
    return socket;
  }
  /** Sends in rounds small enough for the receiver's socket buffer, each taken before the next. */
  async function flood(receiver: TestReceiver, socket: RawGateway, datagrams: Buffer[]): Promise<void> {
    for (let start = 0; start < datagrams.length; start += 100) {
      const round = datagrams.slice(start, start + 100);
      const before = receiver.daemon.counters.get('datagramsReceived');
      for (const bytes of round) socket.send(bytes);
      await waitFor('the round', () => receiver.daemon.counters.get('datagramsReceived') >= before + round.length);
    }
  }

  it('answers a burst of spoofed HELLOs from one address with at most the bucket, counted, and leaves gateways alone', async () => {
    const clock = manualMicroClock(Date.now() * 1000);
    const receiver = await startTestReceiver({}, clock);
    receivers.push(receiver);
    const A = loopback(80);
    const gateway = await receiver.gateway(A);
    await gateway.hello();
    const spoofer = await raw(receiver, A);
    const spoofed = Array.from({ length: 2000 }, (_, i) => hello(A, BigInt(i + 1), 0n, i));
    await flood(receiver, spoofer, spoofed);
    // One more second brings one token (5 per second by default): its HELLO-ACK comes after any other.
    clock.advance(SECOND_US);
    spoofer.send(hello(A, 0xfeedn));
    await spoofer.waitFor('the HELLO-ACK after a second', (message) => message.type === MessageType.HELLO_ACK && message.epoch === 0xfeedn);
    // The default bucket holds 20; the gateway's own first HELLO took one of them.
    expect(spoofer.received).toHaveLength(19 + 1);
    expect(receiver.daemon.counters.get('helloRateLimited')).toBe(2000 - 19);

    // The gateway's epoch goes on: CREATED, QUERY, and a keepalive HELLO with its cookie.
    await gateway.send(MessageType.CREATED, [entry({ natAddress: A, natPort: 7 })]);
    expect((await gateway.query(Protocol.TCP, 7)).status).toBe(AnswerStatus.FOUND);
    const keepalive = await raw(receiver, A);
    keepalive.send(hello(A, gateway.epoch, gateway.cookie, 0x4b41));
    await keepalive.waitFor('the keepalive HELLO-ACK', (message) => message.type === MessageType.HELLO_ACK && message.sequence === 0x4b41);
    // Another gateway starts as always.
    const other = await receiver.gateway(loopback(81));
    await other.hello();
    await waitFor('its Initialized line', () => receiver.lines().length === 3);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.80', expect.stringMatching(/^Created 127\.0\.0\.80:7 /), 'Initialized 127.0.0.81']);
  });

  it('answers at most the bucket of QUERYs per gateway address, counted; spoofed ones spend nothing', async () => {
    const clock = manualMicroClock(Date.now() * 1000);
    const receiver = await startTestReceiver({ queryRate: 1, queryBurst: 5 }, clock);
    receivers.push(receiver);
    const A = loopback(82);
    const gateway = await receiver.gateway(A);
    await gateway.hello();
    const asker = await raw(receiver, A);
    await flood(
      receiver,
      asker,
      Array.from({ length: 10 }, (_, i) => query(A, gateway.epoch, gateway.cookie ^ 1n, i)),
    );
    expect(receiver.daemon.counters.get('badCookie')).toBe(10);
    await flood(
      receiver,
      asker,
      Array.from({ length: 20 }, (_, i) => query(A, gateway.epoch, gateway.cookie, i)),
    );
    clock.advance(SECOND_US);
    asker.send(query(A, gateway.epoch, gateway.cookie, 0xabc));
    await asker.waitFor('the ANSWER after a second', (message) => message.type === MessageType.ANSWER && message.sequence === 0xabc);
    expect(asker.received.map((message) => message.sequence)).toEqual([0, 1, 2, 3, 4, 0xabc]);
    expect(receiver.daemon.counters.get('queryRateLimited')).toBe(15);
    expect(receiver.daemon.counters.get('queriesAnswered')).toBe(6);
  });

  it('draws CLIENT-QUERY answers from the same bucket as QUERY answers', async () => {
    const clock = manualMicroClock(Date.now() * 1000);
    const receiver = await startTestReceiver({ queryRate: 1, queryBurst: 4 }, clock);
    receivers.push(receiver);
    const A = loopback(83);
    const gateway = await receiver.gateway(A);
    await gateway.hello();
    const asker = await raw(receiver, A);
    const requests = Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? query : clientQuery)(A, gateway.epoch, gateway.cookie, i));
    await flood(receiver, asker, requests);
    await asker.waitFor('the fourth ANSWER', (message) => message.sequence === 3);
    expect(asker.received.map((message) => message.sequence)).toEqual([0, 1, 2, 3]);
    expect(receiver.daemon.counters.get('queryRateLimited')).toBe(2);
    expect(receiver.daemon.counters.get('clientQueriesAnswered')).toBe(2);
  });
});
