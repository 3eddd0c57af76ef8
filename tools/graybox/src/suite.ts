// Loads a peer graybox suite (JSON under ../shared/testdata, seen from the repository root) into
// typed cases with decoded packets. The data is read in place, never copied into the project; a
// missing directory or file yields `undefined` so that tests can skip with a note.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex } from './hex.js';

export type Direction = '6to4' | '4to6' | '6to6' | '4to4';

/** Settings a case needs that differ from the suite's baseline. */
export interface CaseSettings {
  /** Translator globals by their Jool names, e.g. "lowest-ipv6-mtu": 1500. */
  readonly globals: Readonly<Record<string, string | number | boolean>>;
  /** Link MTUs, e.g. translatorIpv6Side: 1280. */
  readonly linkMtu: Readonly<Record<string, number>>;
}

export interface Preconditions {
  /** Cases that must have run first (state they create). */
  readonly cases: readonly string[];
  readonly recommendedCases: readonly string[];
  readonly settings: CaseSettings;
  /** Free-text description of the state the case assumes. */
  readonly state: string;
}

/** One expected output packet and how to compare it (per the suite's comparisonRules). */
export interface ExpectedPacket {
  readonly bytes: Uint8Array;
  /** Offsets whose bytes are not compared. */
  readonly wildcards: readonly number[];
  /** Offsets of IPv4 headers that only need a valid header checksum. */
  readonly ipv4ChecksumValidOnlyAt: readonly number[];
}

export interface GrayboxCase {
  readonly id: string;
  readonly order: number;
  readonly group: string;
  readonly description: string;
  readonly notes: string;
  readonly direction: Direction;
  readonly kind: string;
  readonly preconditions: Preconditions;
  /** Raw layer-3 packets to feed in, in order. */
  readonly inputs: readonly Uint8Array[];
  readonly expected: readonly ExpectedPacket[];
  /** The raw ignore list of the original script (see comparisonRules.ignoreBytes). */
  readonly ignoreBytes: readonly number[];
  /** False when the original script does not run the case. */
  readonly enabledInRepo: boolean;
  /** Set when the case needs real waits (e.g. a held SYN). */
  readonly timing: string | null;
  /** Set when the harness must play a peer that answers (raw JSON). */
  readonly peerAction: unknown;
}

export interface GrayboxSuite {
  readonly file: string;
  readonly title: string;
  /** The suite's translator configuration, as raw JSON. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly comparisonRules: Readonly<Record<string, unknown>>;
  readonly harnessNotes: readonly string[];
  /** Cases sorted by their `order`. */
  readonly cases: readonly GrayboxCase[];
}

/** The repository root (this file lives in tools/graybox/src or tools/graybox/dist). */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

/** Where peer test data lives: ../shared/testdata relative to the repository root. */
export function testdataDir(): string {
  return join(repoRoot(), '..', 'shared', 'testdata');
}

/** The note a test prints when it skips because the suite is not there. */
export function missingSuiteNote(file: string, dir = testdataDir()): string {
  return `graybox: ${join(dir, file)} not found; its cases are skipped`;
}

type Json = Record<string, unknown>;

function record(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`graybox: ${what} is not an object`);
  return value as Json;
}

function list<T>(value: unknown, what: string, check: (item: unknown) => item is T): T[] {
  if (!Array.isArray(value) || !value.every(check)) throw new Error(`graybox: ${what} is not a list of the expected items`);
  return value;
}

const isString = (item: unknown): item is string => typeof item === 'string';
const isNumber = (item: unknown): item is number => typeof item === 'number';
const isNumberList = (item: unknown): item is number[] => Array.isArray(item) && item.every(isNumber);

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function parseCase(raw: unknown, index: number): GrayboxCase {
  const c = record(raw, `case #${index}`);
  const id = text(c['id']);
  const where = `case ${id || `#${index}`}`;
  const direction = text(c['direction']);
  if (direction !== '6to4' && direction !== '4to6' && direction !== '6to6' && direction !== '4to4') {
    throw new Error(`graybox: ${where} has direction "${direction}"`);
  }
  const expectedHex = list(c['expected'], `${where} expected`, isString);
  const wildcards = list(c['effectiveWildcards'], `${where} effectiveWildcards`, isNumberList);
  const checksumAt = list(c['ipv4ChecksumValidOnlyAt'], `${where} ipv4ChecksumValidOnlyAt`, isNumberList);
  if (wildcards.length !== expectedHex.length || checksumAt.length !== expectedHex.length) {
    throw new Error(`graybox: ${where} has comparison lists that do not match its expected packets`);
  }
  const pre = record(c['preconditions'] ?? {}, `${where} preconditions`);
  const settings = record(pre['settings'] ?? {}, `${where} settings`);
  return {
    id,
    order: typeof c['order'] === 'number' ? c['order'] : index,
    group: text(c['group']),
    description: text(c['description']),
    notes: text(c['notes']),
    direction,
    kind: text(c['kind']),
    preconditions: {
      cases: list(pre['cases'] ?? [], `${where} preconditions.cases`, isString),
      recommendedCases: list(pre['recommendedCases'] ?? [], `${where} preconditions.recommendedCases`, isString),
      settings: {
        globals: record(settings['globals'] ?? {}, `${where} settings.globals`) as CaseSettings['globals'],
        linkMtu: record(settings['linkMtu'] ?? {}, `${where} settings.linkMtu`) as CaseSettings['linkMtu'],
      },
      state: text(pre['state']),
    },
    inputs: list(c['input'], `${where} input`, isString).map(fromHex),
    expected: expectedHex.map((hex, k) => ({
      bytes: fromHex(hex),
      wildcards: wildcards[k]!,
      ipv4ChecksumValidOnlyAt: checksumAt[k]!,
    })),
    ignoreBytes: list(c['ignoreBytes'] ?? [], `${where} ignoreBytes`, isNumber),
    enabledInRepo: c['enabledInRepo'] !== false,
    timing: typeof c['timing'] === 'string' ? c['timing'] : null,
    peerAction: c['peerAction'] ?? null,
  };
}

/**
 * Loads `file` (e.g. "jool-graybox-siit7915.json") from `dir`. Returns undefined when the
 * directory or the file does not exist; throws when the file exists but is malformed.
 */
export function loadSuite(file: string, dir = testdataDir()): GrayboxSuite | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  const root = record(JSON.parse(readFileSync(path, 'utf8')), file);
  const cases = list(root['cases'], `${file} cases`, (_item): _item is unknown => true).map(parseCase);
  cases.sort((a, b) => a.order - b.order);
  return {
    file: path,
    title: text(root['title']),
    config: record(root['config'] ?? {}, `${file} config`),
    comparisonRules: record(root['comparisonRules'] ?? {}, `${file} comparisonRules`),
    harnessNotes: list(root['harnessNotes'] ?? [], `${file} harnessNotes`, isString),
    cases,
  };
}
