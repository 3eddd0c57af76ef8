import { afterEach, describe, expect, it } from 'vitest';
import { AnswerStatus, HANDOFF_VERSION, MessageType, Protocol } from '@nat64/handoff-codec';
import { waitFor } from '@nat64/netlab';
import { entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';
import { RawGateway } from './support/raw-gateway.js';
import { encodeDatagram } from '../../../packages/handoff-receiver/test/support/datagrams.js';

const A = loopback(71);

const header = { version: HANDOFF_VERSION, flags: 0 } as const;

function hello(epoch: bigint, cookie: bigint, sequence: number): Buffer {
  return encodeDatagram({ ...header, type: MessageType.HELLO, epoch, cookie, sequence, natAddress: A, capabilities: 1 });
}

function query(epoch: bigint, cookie: bigint, natPort: number): Buffer {
  return encodeDatagram({
    ...header,
    type: MessageType.QUERY,
    epoch,
    cookie,
    sequence: 0x51,
    protocol: Protocol.TCP,
    natPort,
    natAddress: A,
    serverAddress: 0xc633640a,
    serverPort: 443,
  });
}

/** Every message an old epoch E1 could still send: replayed, delayed, or with a sequence never seen. */
function oldEpochDatagrams(epoch: bigint, cookie: bigint): Buffer[] {
  return [
    hello(epoch, 0n, 0x1111),
    hello(epoch, cookie, 0x2222),
    encodeDatagram({ ...header, type: MessageType.CREATED, epoch, cookie, sequence: 1, entries: [entry({ natAddress: A, natPort: 100 })] }),
    encodeDatagram({ ...header, type: MessageType.CREATED, epoch, cookie, sequence: 2, entries: [entry({ natAddress: A, natPort: 100 })] }),
    encodeDatagram({ ...header, type: MessageType.DELETED, epoch, cookie, sequence: 3, entries: [entry({ natAddress: A, natPort: 100, who: 2 })] }),
    query(epoch, cookie, 100),
    encodeDatagram({ ...header, type: MessageType.ACK, epoch, cookie, sequence: 0, cumulative: 0, blocks: [] }),
  ];
}

describe('superseded gateway epochs', () => {
  const receivers: TestReceiver[] = [];
  const sockets: RawGateway[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) await socket.close();
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });
  async function raw(receiver: TestReceiver): Promise<RawGateway> {
    const socket = await RawGateway.open(A, receiver.port);
    sockets.push(socket);
    return socket;
  }

  /**
   * Sends `datagrams` from `replayer`, waits until the receiver has taken them all, then makes sure
   * any reply to them would have arrived: a HELLO of a fresh epoch from the same socket is answered
   * after them.
   */
  async function replay(receiver: TestReceiver, replayer: RawGateway, datagrams: Buffer[]): Promise<void> {
    const before = receiver.daemon.counters.get('datagramsReceived');
    for (const bytes of datagrams) replayer.send(bytes);
    await waitFor('the replayed datagrams', () => receiver.daemon.counters.get('datagramsReceived') >= before + datagrams.length);
    const probe = BigInt(replayer.received.length + 1) << 32n;
    replayer.send(hello(probe, 0n, 0x7e57));
    await replayer.waitFor('the HELLO-ACK of the probe', (message) => message.type === MessageType.HELLO_ACK && message.epoch === probe);
  }

  it('drops every message of an epoch that a newer one replaced: no Initialized, no change, no reply; the new epoch goes on, also after a restart', async () => {
    const receiver = await startTestReceiver();
    receivers.push(receiver);
    const first = await receiver.gateway(A);
    await first.hello();
    await first.send(MessageType.CREATED, [entry({ natAddress: A, natPort: 100 })]);
    // The gateway restarts with a new epoch and hands the same NAT port to another client.
    const second = await receiver.gateway(A);
    await second.hello();
    await second.send(MessageType.CREATED, [entry({ natAddress: A, natPort: 100, who: 2 })]);
    const expected = [
      'Initialized 127.0.0.71',
      'Created 127.0.0.71:100 [2001:db8::1]:40001',
      'Initialized 127.0.0.71',
      'Deleted 127.0.0.71:100 [2001:db8::1]:40001',
      'Created 127.0.0.71:100 [2001:db8::2]:40002',
    ];
    expect(receiver.lines()).toEqual(expected);

    const stale = oldEpochDatagrams(first.epoch, first.cookie);
    const replayer = await raw(receiver);
    await replay(receiver, replayer, stale);
    expect(replayer.received.map((message) => message.type)).toEqual([MessageType.HELLO_ACK]);
    expect(receiver.daemon.counters.get('supersededEpoch')).toBe(stale.length);
    expect(receiver.daemon.counters.get('gatewaysInitialized')).toBe(2);
    // The current epoch is still acknowledged and answered from its own entries.
    await second.send(MessageType.CREATED, [entry({ natAddress: A, natPort: 101, who: 3 })]);
    const answer = await second.query(Protocol.TCP, 100);
    expect(answer.status).toBe(AnswerStatus.FOUND);
    expect(answer.entry?.clientAddress[15]).toBe(2);
    expected.push('Created 127.0.0.71:101 [2001:db8::3]:40003');
    expect(receiver.lines()).toEqual(expected);

    // The receiver restarts on the same database: E1 stays dead.
    const { epoch, cookie } = second;
    const restarted = await receiver.restart();
    receivers.push(restarted);
    await replay(restarted, replayer, stale);
    expect(replayer.received.map((message) => message.type)).toEqual([MessageType.HELLO_ACK, MessageType.HELLO_ACK]);
    expect(restarted.daemon.counters.get('supersededEpoch')).toBe(stale.length);
    expect(restarted.daemon.counters.get('gatewaysInitialized')).toBe(0);
    const current = await raw(restarted);
    current.send(
      encodeDatagram({ ...header, type: MessageType.CREATED, epoch, cookie, sequence: 3, entries: [entry({ natAddress: A, natPort: 102, who: 4 })] }),
    );
    await current.waitFor('the ACK of E2', (message) => message.type === MessageType.ACK && message.epoch === epoch && message.cumulative === 3);
    current.send(query(epoch, cookie, 100));
    const found = await current.waitFor('the ANSWER to E2', (message) => message.type === MessageType.ANSWER);
    expect(found).toMatchObject({ status: AnswerStatus.FOUND, entry: { natPort: 100, clientPort: 40_002 } });
    expected.push('Created 127.0.0.71:102 [2001:db8::4]:40004');
    expect(restarted.lines()).toEqual(expected);
  });

  it('accepts a gateway that restarts again with a new random epoch, before and after a receiver restart, and then refuses the one before', async () => {
    const receiver = await startTestReceiver();
    receivers.push(receiver);
    const first = await receiver.gateway(A);
    await first.hello();
    const second = await receiver.gateway(A);
    await second.hello();
    const restarted = await receiver.restart();
    receivers.push(restarted);
    const third = await restarted.gateway(A);
    await third.hello();
    await third.send(MessageType.CREATED, [entry({ natAddress: A, natPort: 200, who: 5 })]);
    expect(restarted.lines()).toEqual([
      'Initialized 127.0.0.71',
      'Initialized 127.0.0.71',
      'Initialized 127.0.0.71',
      'Created 127.0.0.71:200 [2001:db8::5]:40005',
    ]);
    const replayer = await raw(restarted);
    await replay(
      restarted,
      replayer,
      [first, second].flatMap((old) => oldEpochDatagrams(old.epoch, old.cookie)),
    );
    expect(replayer.received.map((message) => message.type)).toEqual([MessageType.HELLO_ACK]);
    expect(restarted.daemon.counters.get('supersededEpoch')).toBe(14);
    expect(restarted.lines()).toHaveLength(4);
  });
});
