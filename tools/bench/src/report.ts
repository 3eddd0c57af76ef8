// How every benchmark reports: repeated rounds summarised as min/median/max, a short table on
// stdout, and the full figures as JSON in bench-results/ at the repository root.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arch, cpus, release } from 'node:os';

export const REPOSITORY_ROOT = new URL('../../../', import.meta.url).pathname;

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 };
}

/** The median, the 99th percentile and the largest of a set of timings. */
/** A table cell: the median, then the range, each through `format`: "12.3 (11.0-14.1)". */
export function spreadCell(s: Spread, format: (v: number) => string): string {
  return `${format(s.median)} (${format(s.min)}-${format(s.max)})`;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

/** The value at share `q` (0 to 1) of `values` sorted, by nearest rank: 0.5 the median, 1 the largest; 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

export function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99), max: percentile(values, 1) };
}

/** Formats a rate such as 12.3M/s or 456k/s. */
export function rate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** A table's column: its header, and its cell in the row of `row`. */
export type Column<Row> = readonly [header: string, cell: (row: Row) => string];

/** printTable with each column's header beside how its cells are made, one row per element of `rows`. */
export function printColumns<Row>(title: string, columns: readonly Column<Row>[], rows: readonly Row[]): void {
  printTable(
    title,
    columns.map(([header]) => header),
    rows.map((row) => columns.map(([, cell]) => cell(row))),
  );
}

/** `items` in groups of equal `key`, the groups in the order of their first item. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [item]);
    else group.push(item);
  }
  return [...groups.values()];
}

export function machine(): Record<string, unknown> {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, arch: arch(), kernel: release() };
}

/** Writes bench-results/<name>.json with the machine it ran on and when. */
export function writeResults(name: string, results: unknown): string {
  const dir = join(REPOSITORY_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, at: new Date().toISOString(), machine: machine(), results }, null, 2)}\n`);
  return file;
}
