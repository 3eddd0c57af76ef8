import { afterEach, describe, expect, it } from 'vitest';
import { AnswerStatus, HANDOFF_VERSION, MessageType, Protocol, type HandoffEntry } from '@nat64/handoff-codec';
import { runSeedScenario, seedExpectedLines } from '@nat64/handoff-sim';
import { waitFor } from '@nat64/netlab';
import { manualMicroClock } from '@nat64/service';
import { SERVER, client, entry } from '../../../packages/handoff-receiver/test/support/entries.js';
import { loopback, startTestReceiver, type TestReceiver } from './support/receiver.js';

describe('receiver', () => {
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.cleanup();
  });
  async function start(flags: Record<string, unknown> = {}): Promise<TestReceiver> {
    const receiver = await startTestReceiver(flags);
    receivers.push(receiver);
    return receiver;
  }

  it('logs the seed scenario exactly, timestamps included, when the scenario sets its clock', async () => {
    const clock = manualMicroClock(Date.UTC(2019, 2, 18, 9, 58) * 1000);
    const receiver = await startTestReceiver({}, clock);
    receivers.push(receiver);
    await runSeedScenario({
      receiverAddress: '127.0.0.1',
      receiverPort: receiver.port,
      localPort: 0,
      serverAddress: SERVER,
      gateways: [loopback(7), loopback(9)],
      setClock: clock.set,
    });
    await waitFor('the last log line', () => receiver.rawLines().length === 8);
    expect(receiver.rawLines()).toEqual(seedExpectedLines(['127.0.0.7', '127.0.0.9'], { timestamps: true }));
    // The six lines of the seed example, exactly, after the prelude.
    expect(receiver.rawLines().slice(2)).toEqual(
      seedExpectedLines(['192.0.2.7', '192.0.2.9'], { timestamps: true, excerptOnly: true }).map((line) =>
        line.replaceAll('192.0.2.7', '127.0.0.7').replaceAll('192.0.2.9', '127.0.0.9'),
      ),
    );
  });

  it('logs a port that passes to another client as Deleted then Created', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(20));
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(20), natPort: 5000 }), entry({ natAddress: loopback(20), natPort: 5000, who: 2 })]);
    expect(receiver.lines()).toEqual([
      'Initialized 127.0.0.20',
      'Created 127.0.0.20:5000 [2001:db8::1]:40001',
      'Deleted 127.0.0.20:5000 [2001:db8::1]:40001',
      'Created 127.0.0.20:5000 [2001:db8::2]:40002',
    ]);
  });

  it('logs DELETED from the gateway, and ignores a DELETED for a client that no longer holds the port', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(21));
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(21), natPort: 6000 }), entry({ natAddress: loopback(21), natPort: 6001, who: 2 })]);
    await gateway.send(MessageType.DELETED, [entry({ natAddress: loopback(21), natPort: 6000 }), entry({ natAddress: loopback(21), natPort: 6001, who: 9 })]);
    expect(receiver.lines().slice(3)).toEqual(['Deleted 127.0.0.21:6000 [2001:db8::1]:40001']);
    expect(receiver.daemon.counters.get('deleted')).toBe(1);
  });

  it('answers queries from the table with an ANSWER no larger than the QUERY', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(22));
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(22), natPort: 7000, who: 3 })]);
    const found = await gateway.query(Protocol.TCP, 7000, SERVER, 443);
    expect(found.status).toBe(AnswerStatus.FOUND);
    expect(found.entry?.clientAddress).toEqual(client(3));
    expect(found.entry?.clientPort).toBe(40_003);
    expect((await gateway.query(Protocol.TCP, 7001)).status).toBe(AnswerStatus.NOT_FOUND);
    expect((await gateway.query(Protocol.UDP, 7000)).status).toBe(AnswerStatus.NOT_FOUND);
  });

  it('answers client-side queries from the table with an ANSWER no larger than the CLIENT-QUERY', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(24));
    await gateway.hello();
    await gateway.send(MessageType.CREATED, [
      entry({ natAddress: loopback(24), natPort: 7000, who: 3 }),
      entry({ natAddress: loopback(24), natPort: 7001, who: 4 }),
    ]);
    const found = await gateway.clientQuery(Protocol.TCP, client(3), 40_003, SERVER, 8080);
    expect(found.status).toBe(AnswerStatus.FOUND);
    expect(found.entry).toMatchObject({ protocol: Protocol.TCP, natAddress: loopback(24), natPort: 7000, clientPort: 40_003 });
    expect((await gateway.clientQuery(Protocol.TCP, client(4), 40_004)).entry?.natPort).toBe(7001);
    expect((await gateway.clientQuery(Protocol.TCP, client(3), 40_004)).status).toBe(AnswerStatus.NOT_FOUND);
    expect((await gateway.clientQuery(Protocol.UDP, client(3), 40_003)).status).toBe(AnswerStatus.NOT_FOUND);
    expect(receiver.daemon.counters.get('clientQueriesAnswered')).toBe(4);
    const other = await receiver.gateway(loopback(25));
    await other.hello();
    expect((await other.clientQuery(Protocol.TCP, client(3), 40_003)).status).toBe(AnswerStatus.NOT_FOUND);
  });

  it('says it is not authoritative when told not to take authority', async () => {
    const receiver = await start({ authoritative: false });
    const gateway = await receiver.gateway(loopback(23));
    expect((await gateway.hello()).authoritative).toBe(false);
    await gateway.send(MessageType.CREATED, [entry({ natAddress: loopback(23), natPort: 7000, who: 3 })]);
    expect((await gateway.query(Protocol.TCP, 7000)).status).toBe(AnswerStatus.NOT_AUTHORITATIVE);
    expect(receiver.lines()).toContain('Created 127.0.0.23:7000 [2001:db8::3]:40003');
  });

  it('acknowledges a retransmitted message again without applying or logging it twice', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(24));
    await gateway.hello();
    const created = gateway.encode({
      type: MessageType.CREATED,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: gateway.epoch,
      cookie: gateway.cookie,
      sequence: 1,
      entries: [entry({ natAddress: loopback(24), natPort: 8000 })],
    });
    gateway.sendRaw(created);
    gateway.sendRaw(created);
    await waitFor('two acknowledgements', () => receiver.daemon.counters.get('acksSent') >= 1 && receiver.daemon.counters.get('duplicates') === 1);
    gateway.sendRaw(created);
    await waitFor('the third copy', () => receiver.daemon.counters.get('duplicates') === 2);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.24', 'Created 127.0.0.24:8000 [2001:db8::1]:40001']);
  });

  it('applies messages that arrive out of order in sequence order', async () => {
    const receiver = await start();
    const gateway = await receiver.gateway(loopback(25));
    await gateway.hello();
    const message = (sequence: number, type: typeof MessageType.CREATED | typeof MessageType.DELETED, mapping: HandoffEntry) =>
      gateway.encode({ type, version: HANDOFF_VERSION, flags: 0, epoch: gateway.epoch, cookie: gateway.cookie, sequence, entries: [mapping] });
    // DELETED (2) overtakes the CREATED (1) it undoes: applied in arrival order, the entry would stay.
    gateway.sendRaw(message(2, MessageType.DELETED, entry({ natAddress: loopback(25), natPort: 9000 })));
    await waitFor('the held message', () => receiver.daemon.counters.get('heldAhead') === 1);
    gateway.sendRaw(message(1, MessageType.CREATED, entry({ natAddress: loopback(25), natPort: 9000 })));
    await waitFor('both applied', () => receiver.daemon.counters.get('reliableApplied') === 2);
    await waitFor('the log', () => receiver.lines().length === 3);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.25', 'Created 127.0.0.25:9000 [2001:db8::1]:40001', 'Deleted 127.0.0.25:9000 [2001:db8::1]:40001']);
  });

  it('starts a new epoch of a restarted gateway with a new Initialized line and keeps the table', async () => {
    const receiver = await start();
    const first = await receiver.gateway(loopback(26));
    await first.hello();
    await first.send(MessageType.CREATED, [entry({ natAddress: loopback(26), natPort: 1000 })]);
    await first.close();
    const second = await receiver.gateway(loopback(26));
    await second.hello();
    expect((await second.query(Protocol.TCP, 1000)).status).toBe(AnswerStatus.FOUND);
    await waitFor('the second Initialized line', () => receiver.lines().length === 3);
    expect(receiver.lines()).toEqual(['Initialized 127.0.0.26', 'Created 127.0.0.26:1000 [2001:db8::1]:40001', 'Initialized 127.0.0.26']);
  });
});
