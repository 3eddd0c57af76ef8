import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { openBatchedTransport, type BatchedTransport } from '../src/batched-transport.js';

describe('batched transport', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function gatewaySocket(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
    const socket = createSocket(type);
    await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return socket;
  }

  function open(addresses: string[]) {
    const got: { text: string; address: string; port: number }[] = [];
    let batches = 0;
    const errors: Error[] = [];
    const transport: BatchedTransport = openBatchedTransport({
      addresses,
      port: 0,
      onDatagram: (buf, offset, length, address, port) => got.push({ text: buf.toString('utf8', offset, offset + length), address, port }),
      onBatchEnd: () => batches++,
      onSendError: (error) => errors.push(error),
    });
    cleanups.push(() => transport.close());
    return { transport, got, errors, batches: () => batches };
  }

  it('hands each datagram on with its IPv4 source on "::" alone, ends batches, and sends a batch back with one call', async () => {
    const { transport, got, batches } = open(['::']);
    expect(transport.ipv4Through).toBe(transport.bound[0]);
    const port = Number(transport.bound[0]!.split(':').at(-1));
    const gateway = await gatewaySocket('udp4', '127.0.0.1');
    const back: string[] = [];
    gateway.on('message', (bytes) => back.push(bytes.toString()));
    for (const word of ['one', 'two']) gateway.send(word, port, '127.0.0.1');
    await expect.poll(() => got.length).toBe(2);
    expect(got).toEqual([
      { text: 'one', address: '127.0.0.1', port: gateway.address().port },
      { text: 'two', address: '127.0.0.1', port: gateway.address().port },
    ]);
    expect(batches()).toBeGreaterThanOrEqual(1);
    transport.sendBatch(Buffer.from('xxthreefour'), Uint32Array.of(2, 7), Uint32Array.of(5, 4), 2, gateway.address().port, '127.0.0.1');
    transport.send(Buffer.from('five'), gateway.address().port, '127.0.0.1');
    await expect.poll(() => back.length).toBe(3);
    expect(back).toEqual(['three', 'four', 'five']);
    expect(transport.sendQueueCount()).toBe(0);
  });

  it('reports a send to an address no socket can reach as a send error, without throwing', () => {
    const { transport, errors } = open(['127.0.0.1']);
    transport.send(Buffer.from('x'), 9, '2001:db8::1');
    expect(errors).toHaveLength(1);
  });
});
