// `lookup` reads a plain command line itself (lookup-arguments.ts) and leaves every other to the
// commander program of lookup-command.ts. What it reads, it must read as commander does; and the
// forms people and scripts write must be the ones it reads.
import { Command } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainLookupArguments, type LookupOptions } from '../src/lookup-arguments.js';
import { lookupCommand } from '../src/lookup-command.js';

/** What the commander program hands its action for `args`, or undefined when it refuses them. */
async function commanderReads(args: readonly string[]): Promise<{ endpoint: string | undefined; options: LookupOptions } | undefined> {
  let read: { endpoint: string | undefined; options: LookupOptions } | undefined;
  const program = new Command().name('nat64-receiver').exitOverride();
  program.addCommand(
    lookupCommand(async (endpoint, options) => {
      read = { endpoint, options: { ...options } };
    })
      .copyInheritedSettings(program)
      .configureOutput({ writeOut: () => {}, writeErr: () => {} }),
  );
  try {
    await program.parseAsync(['lookup', ...args], { from: 'user' });
  } catch {
    return undefined;
  }
  return read;
}

const WORDS = [
  '192.0.2.7:3719',
  '198.51.100.1:1',
  'help',
  '--client',
  '2001:db8::17',
  '--proto',
  'tcp',
  'udp',
  'sctp',
  '--at',
  '2019-03-18 10:30',
  '--at=2019-03-18T10:30:00Z',
  '--db',
  '/var/lib/x.db',
  '--db=',
  '-c',
  '--config',
  '--config=/etc/r.json',
  'r.json',
  '-cr.json',
  '--local-time',
  '--local-time=1',
  '--json',
  '--limit',
  '5',
  '0',
  '-3',
  '--limit=7',
  '--limit=05',
  '-h',
  '--help',
  '--',
  '-',
  '--unknown',
];

describe('plainLookupArguments', () => {
  it('reads every command line it accepts as the commander program does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...WORDS), { maxLength: 7 }), async (args) => {
        const plain = plainLookupArguments(args);
        if (plain !== undefined) expect(await commanderReads(args)).toEqual(plain);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the forms people and scripts write', async () => {
    for (const args of [
      ['192.0.2.7:3719'],
      ['192.0.2.7:3719', '--db', '/var/lib/x.db', '--at', '2019-03-18 10:30'],
      ['--at=2019-03-18 10:30', '192.0.2.7:3719', '--proto', 'udp', '--json', '--limit', '5', '--local-time'],
      ['192.0.2.7:3719', '-c', '/etc/nat64-receiver.json'],
      ['--client', '2001:db8::17', '--config=/etc/nat64-receiver.json', '--limit=100'],
    ]) {
      const plain = plainLookupArguments(args);
      expect(plain, args.join(' ')).toBeDefined();
      expect(await commanderReads(args)).toEqual(plain);
    }
  });

  it('leaves help, mistakes and unusual forms to commander', () => {
    for (const args of [
      [],
      ['--help'],
      ['192.0.2.7:3719', '-h'],
      ['192.0.2.7:3719', '--limit', '0'],
      ['192.0.2.7:3719', '--proto', 'sctp'],
      ['192.0.2.7:3719', '--client', '2001:db8::17'],
      ['192.0.2.7:3719', '192.0.2.8:1'],
      ['192.0.2.7:3719', '--db', 'a.db', '--db', 'b.db'],
      ['192.0.2.7:3719', '--at'],
      ['192.0.2.7:3719', '--at', '-0500'],
      ['192.0.2.7:3719', '--verbose'],
      ['--', '192.0.2.7:3719'],
    ])
      expect(plainLookupArguments(args), args.join(' ')).toBeUndefined();
  });
});
