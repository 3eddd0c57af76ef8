// Named counters with one-line explanations, as `stats` shows them (like `jool stats display
// --explain`). Values live in one typed array and are bumped by index on hot paths.

export interface CounterSnapshot {
  name: string;
  value: number;
  explanation: string;
}

export class Counters<Name extends string> {
  readonly values: Float64Array;
  /** Index of each counter, for hot paths: `counters.values[counters.index.name]++`. */
  readonly index: Readonly<Record<Name, number>>;
  private readonly names: Name[];

  constructor(private readonly explanations: Readonly<Record<Name, string>>) {
    this.names = Object.keys(explanations) as Name[];
    this.values = new Float64Array(this.names.length);
    this.index = Object.fromEntries(this.names.map((name, index) => [name, index])) as Record<Name, number>;
  }

  /**
   * Off the hot paths: inlined with a constant name, this is still one keyed load shared by every
   * counter's name, which V8 keeps megamorphic (a stub-cache lookup per call). Per packet or datagram,
   * bump `values[index.name]` instead.
   */
  add(name: Name, amount = 1): void {
    this.values[this.index[name]]! += amount;
  }

  get(name: Name): number {
    return this.values[this.index[name]]!;
  }

  /** Every counter, or only the non-zero ones, in definition order. */
  snapshot(options: { all?: boolean } = {}): CounterSnapshot[] {
    return this.names
      .map((name, index) => ({ name, value: this.values[index]!, explanation: this.explanations[name] }))
      .filter((counter) => options.all || counter.value !== 0);
  }
}

/** Renders counters as an aligned table, with explanations when asked. */
export function formatCounters(counters: CounterSnapshot[], explain: boolean): string {
  const width = Math.max(0, ...counters.map((counter) => counter.name.length));
  return counters
    .map((counter) => {
      const line = `${counter.name.padEnd(width)}  ${String(counter.value).padStart(12)}`;
      return explain ? `${line}  ${counter.explanation}` : line;
    })
    .join('\n');
}

/**
 * Counters kept in a flat array indexed by a status code (a decoder's drop reasons), as snapshots
 * named `<prefix>.<status name>`: those `counted` and nonzero, or all of those counted with `all`.
 */
export function statusCounters(
  values: Float64Array,
  names: readonly string[],
  prefix: string,
  explain: (name: string) => string,
  options: { all?: boolean; counted?: (status: number) => boolean } = {},
): CounterSnapshot[] {
  const counters: CounterSnapshot[] = [];
  names.forEach((name, status) => {
    const value = values[status]!;
    if ((options.counted?.(status) ?? true) && (options.all === true || value > 0))
      counters.push({ name: `${prefix}.${name}`, value, explanation: explain(name) });
  });
  return counters;
}
