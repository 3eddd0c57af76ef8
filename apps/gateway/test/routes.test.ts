import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { addRoutes, gatewayRoutes, removeRoutes, warnUnroutedDestinations, type IpCommand } from '../src/routes.js';

/** A kernel as `ip -j route get` describes it: destination → answer, or an error message. */
function fakeIp(answers: Record<string, string | Error>, calls: string[][] = []): IpCommand {
  return async (args) => {
    calls.push([...args]);
    const answer = answers[args.join(' ')];
    if (answer instanceof Error) throw answer;
    return answer ?? '';
  };
}

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

const ROUTES = gatewayRoutes('2001:db8:64::/96', ['198.51.100.1', '198.51.100.9']);

describe('routes', () => {
  it('lists the prefix and each pool4 address as a /32', () => {
    expect(ROUTES).toEqual([
      { family: 6, destination: '2001:db8:64::/96' },
      { family: 4, destination: '198.51.100.1/32' },
      { family: 4, destination: '198.51.100.9/32' },
    ]);
  });

  it('adds each route with replace and removes it with del, a route already gone being no error', async () => {
    const calls: string[][] = [];
    await addRoutes('nat64', ROUTES, fakeIp({}, calls));
    expect(calls).toEqual([
      ['-6', 'route', 'replace', '2001:db8:64::/96', 'dev', 'nat64'],
      ['-4', 'route', 'replace', '198.51.100.1/32', 'dev', 'nat64'],
      ['-4', 'route', 'replace', '198.51.100.9/32', 'dev', 'nat64'],
    ]);
    const { logger } = capture();
    const gone = fakeIp({ '-4 route del 198.51.100.1/32 dev nat64': new Error('RTNETLINK answers: No such process') }, calls.splice(0));
    await expect(removeRoutes('nat64', ROUTES, logger, gone)).resolves.toBeUndefined();
  });

  it('names the route the kernel refused', async () => {
    const ip = fakeIp({ '-4 route replace 198.51.100.1/32 dev nat64': new Error('Error: Nexthop device is not up.') });
    await expect(addRoutes('nat64', ROUTES, ip)).rejects.toThrow('cannot route 198.51.100.1/32 into nat64: Error: Nexthop device is not up.');
  });

  it('warns about each destination the kernel sends elsewhere, to this host or nowhere, and not about the rest', async () => {
    const { logger, lines } = capture();
    const ip = fakeIp({
      '-j -6 route get 2001:db8:64::': JSON.stringify([{ dst: '2001:db8:64::', dev: 'nat64' }]),
      '-j -4 route get 198.51.100.1': JSON.stringify([{ dst: '198.51.100.1', dev: 'eth0', gateway: '203.0.113.254' }]),
      '-j -4 route get 198.51.100.9': JSON.stringify([{ type: 'local', dst: '198.51.100.9', dev: 'lo' }]),
    });
    expect(await warnUnroutedDestinations('nat64', ROUTES, logger, ip)).toEqual(['198.51.100.1/32', '198.51.100.9/32']);
    expect(lines.map((line) => line['msg'])).toEqual([
      '198.51.100.1/32 is not routed into nat64: the kernel routes it via eth0, so its packets never reach the gateway (or run with --routes)',
      '198.51.100.9/32 is not routed into nat64: the kernel routes it to this host itself, so its packets never reach the gateway (or run with --routes)',
    ]);
    expect(lines[0]).toMatchObject({ level: 40, destination: '198.51.100.1/32', fix: 'ip -4 route add 198.51.100.1/32 dev nat64' });

    const unreachable = capture();
    const none = fakeIp({
      '-j -6 route get 2001:db8:64::': new Error('RTNETLINK answers: Network is unreachable'),
      '-j -4 route get 198.51.100.1': JSON.stringify([{ dst: '198.51.100.1', dev: 'nat64' }]),
      '-j -4 route get 198.51.100.9': JSON.stringify([{ dst: '198.51.100.9', dev: 'nat64' }]),
    });
    expect(await warnUnroutedDestinations('nat64', ROUTES, unreachable.logger, none)).toEqual(['2001:db8:64::/96']);
    expect(unreachable.lines[0]!['msg']).toContain('the kernel has no route for it (RTNETLINK answers: Network is unreachable)');
  });
});
