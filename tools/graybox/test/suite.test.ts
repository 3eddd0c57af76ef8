import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSuite, missingSuiteNote, repoRoot, testdataDir } from '../src/suite.js';

const dir = mkdtempSync(join(tmpdir(), 'graybox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SUITE = {
  title: 'two cases',
  config: { pool6: '64:ff9b::/96' },
  comparisonRules: { summary: 'rules' },
  harnessNotes: ['note'],
  cases: [
    {
      id: 'b',
      order: 2,
      direction: '4to6',
      kind: 'translate',
      description: 'second',
      preconditions: {
        cases: ['a'],
        recommendedCases: [],
        settings: { globals: { 'lowest-ipv6-mtu': 1500 }, linkMtu: { translatorIpv6Side: 1280 } },
        state: 'x',
      },
      input: ['4500'],
      expected: ['6000', '6001'],
      ignoreBytes: [4],
      effectiveWildcards: [[4], []],
      ipv4ChecksumValidOnlyAt: [[], []],
      timing: 'waits 6 s',
    },
    {
      id: 'a',
      order: 1,
      direction: '6to4',
      input: ['60 00'],
      expected: ['4500'],
      effectiveWildcards: [[]],
      ipv4ChecksumValidOnlyAt: [[0]],
      enabledInRepo: false,
    },
  ],
};

describe('suite', () => {
  it('finds the test data beside the repository', () => {
    expect(testdataDir()).toBe(join(repoRoot(), '..', 'shared', 'testdata'));
    expect(existsSync(join(repoRoot(), 'tools', 'graybox', 'package.json'))).toBe(true);
  });

  it('loads cases in order with decoded packets and their comparison rules', () => {
    writeFileSync(join(dir, 'suite.json'), JSON.stringify(SUITE));
    const suite = loadSuite('suite.json', dir)!;
    expect(suite.title).toBe('two cases');
    expect(suite.cases.map((c) => c.id)).toEqual(['a', 'b']);
    const [a, b] = suite.cases;
    expect(a!.inputs).toEqual([Uint8Array.from([0x60, 0x00])]);
    expect(a!.expected[0]).toEqual({ bytes: Uint8Array.from([0x45, 0x00]), wildcards: [], ipv4ChecksumValidOnlyAt: [0] });
    expect(a!.enabledInRepo).toBe(false);
    expect(b!.preconditions.cases).toEqual(['a']);
    expect(b!.preconditions.settings.globals['lowest-ipv6-mtu']).toBe(1500);
    expect(b!.preconditions.settings.linkMtu['translatorIpv6Side']).toBe(1280);
    expect(b!.expected.map((e) => e.wildcards)).toEqual([[4], []]);
    expect(b!.timing).toBe('waits 6 s');
  });

  it('returns undefined when the directory or file is missing', () => {
    expect(loadSuite('nothing.json', join(dir, 'absent'))).toBeUndefined();
    expect(missingSuiteNote('x.json', '/nowhere')).toBe('graybox: /nowhere/x.json not found; its cases are skipped');
  });

  it('throws on a malformed suite rather than skipping it', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ cases: [{ id: 'x', direction: 'sideways', input: [], expected: [] }] }));
    expect(() => loadSuite('bad.json', dir)).toThrow(/direction/);
  });

  it('loads the real suites when they are present', () => {
    const siit = loadSuite('jool-graybox-siit7915.json');
    if (siit === undefined) {
      console.log(missingSuiteNote('jool-graybox-siit7915.json'));
      return;
    }
    expect(siit.cases).toHaveLength(78);
    expect(siit.cases[0]!.id).toBe('aa1');
    const nat64 = loadSuite('jool-graybox-nat64.json');
    expect(nat64?.cases).toHaveLength(42);
  });
});
