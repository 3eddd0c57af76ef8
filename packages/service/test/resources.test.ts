import { describe, expect, it } from 'vitest';
import { Resources, silentLogger } from '@nat64/service';

describe('resources', () => {
  it('releases in reverse order of acquisition on stop, stop steps in their place', async () => {
    const order: string[] = [];
    const resources = new Resources(silentLogger());
    const socket = await resources.acquire(
      'socket',
      async () => 'socket',
      (value) => void order.push(`close ${value}`),
    );
    expect(socket).toBe('socket');
    resources.onStop('drain', async () => void order.push('drain'));
    resources.hold('device', 'device', (value) => void order.push(`close ${value}`));
    resources.add('timer', () => void order.push('clear timer'));
    expect(resources.size).toBe(4);
    expect(await resources.stop()).toEqual([]);
    expect(order).toEqual(['clear timer', 'close device', 'drain', 'close socket']);
    expect(resources.size).toBe(0);
  });

  it('releases what a failed start acquired, in reverse, skips stop steps and rethrows', async () => {
    const order: string[] = [];
    const resources = new Resources();
    const failure = new Error('cannot bind');
    await expect(
      resources.start(async (held) => {
        held.add('store', () => void order.push('close store'));
        held.onStop('drain', () => void order.push('drain'));
        await held.acquire(
          'log',
          () => 'log',
          () => void order.push('close log'),
        );
        await held.acquire(
          'socket',
          () => Promise.reject(failure),
          () => void order.push('close socket'),
        );
      }),
    ).rejects.toBe(failure);
    expect(order).toEqual(['close log', 'close store']);
  });

  it('goes on releasing after a release fails, and reports and logs every failure', async () => {
    const order: string[] = [];
    const logged: unknown[] = [];
    const logger = silentLogger();
    logger.error = ((object: unknown) => void logged.push(object)) as typeof logger.error;
    const resources = new Resources(logger);
    resources.add('first', () => void order.push('first'));
    resources.add('broken', () => {
      throw new Error('EBADF');
    });
    resources.add('rejecting', () => Promise.reject(new Error('EIO')));
    resources.add('last', () => void order.push('last'));
    const failures = await resources.stop();
    expect(order).toEqual(['last', 'first']);
    expect(failures.map(({ name, error }) => [name, (error as Error).message])).toEqual([
      ['rejecting', 'EIO'],
      ['broken', 'EBADF'],
    ]);
    expect(logged).toHaveLength(2);
  });

  it('stops synchronously in reverse order, going on after a failure', () => {
    const order: string[] = [];
    const resources = new Resources();
    resources.add('a', () => void order.push('a'));
    resources.add('b', () => {
      throw new Error('b');
    });
    resources.add('c', () => void order.push('c'));
    expect(resources.stopSync().map((failure) => failure.name)).toEqual(['b']);
    expect(order).toEqual(['c', 'a']);
    expect(resources.stopSync()).toEqual([]);
  });
});
