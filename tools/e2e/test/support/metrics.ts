// Scraping a daemon's `--metrics` endpoint from inside its namespace (curl), and reading the page with
// a Prometheus text parser plus the checks that parser leaves out: every sample belongs to a family
// announced by HELP and TYPE before it, counters end in _total, names are valid, no family twice.
// `promtool check metrics` (Debian's prometheus package) runs on the page too where it is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import type { Namespace } from '@nat64/netlab';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

export interface Scrape {
  readonly text: string;
  readonly families: ParsedFamily[];
  /** One family by name; throws when absent. */
  family(name: string): ParsedFamily;
  /** The value of an unlabelled sample, or of the sample with these labels. */
  value(name: string, labels?: Record<string, string>): number;
}

export async function scrape(namespace: Namespace, url: string): Promise<Scrape> {
  const result = await namespace.run('curl', ['-sS', '--fail', '--max-time', '10', '-w', '\n%{content_type}', url], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`scraping ${url} failed (${result.code}): ${result.stderr}`);
  const cut = result.stdout.lastIndexOf('\n');
  const contentType = result.stdout.slice(cut + 1);
  if (contentType !== 'text/plain; version=0.0.4; charset=utf-8') throw new Error(`unexpected content type ${contentType}`);
  const text = result.stdout.slice(0, cut);
  checkStructure(text);
  const families = parsePrometheusTextFormat(text);
  const family = (name: string) => {
    const found = families.find((candidate) => candidate.name === name);
    if (found === undefined) throw new Error(`no metric ${name} in the page`);
    return found;
  };
  const value = (name: string, labels: Record<string, string> = {}) => {
    const sample = family(name).metrics.find((metric) => JSON.stringify(metric.labels ?? {}) === JSON.stringify(labels));
    if (sample?.value === undefined) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
    return Number(sample.value);
  };
  return { text, families, family, value };
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

/** The grammar of the text format, strictly, and the conventions promtool checks. */
export function checkStructure(text: string): void {
  if (!text.endsWith('\n')) throw new Error('the page does not end with a newline');
  const types = new Map<string, string>();
  const helped = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (!NAME.test(name!)) throw new Error(`invalid metric name in: ${line}`);
      if (kind === 'HELP') {
        if (helped.has(name!)) throw new Error(`HELP twice for ${name}`);
        if (rest!.trim() === '') throw new Error(`empty HELP for ${name}`);
        helped.add(name!);
      } else {
        if (types.has(name!)) throw new Error(`TYPE twice for ${name}`);
        if (!['counter', 'gauge', 'histogram'].includes(rest!)) throw new Error(`unexpected type in: ${line}`);
        if (!helped.has(name!)) throw new Error(`TYPE before HELP for ${name}`);
        if (rest === 'counter' && !name!.endsWith('_total')) throw new Error(`counter ${name} does not end in _total`);
        types.set(name!, rest!);
      }
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = sample[1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const type = types.get(family);
    if (type === undefined) throw new Error(`sample before its TYPE: ${line}`);
    if (family !== name && type !== 'histogram') throw new Error(`suffixed sample of a ${type}: ${line}`);
    if (Number.isNaN(Number(sample[3]!.replace('Inf', 'Infinity')))) throw new Error(`bad value: ${line}`);
  }
}

/** `promtool check metrics` on the page; undefined when promtool is not installed, else its complaints ('' for none). */
export function promtoolComplaints(text: string): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0) return undefined;
  try {
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return '';
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    return `${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim();
  }
}
