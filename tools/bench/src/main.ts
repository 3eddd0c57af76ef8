#!/usr/bin/env node
// pnpm bench: every benchmark in turn, or the ones named (`pnpm bench codec receiver`).
// Each prints a table and writes bench-results/<name>.json. Benchmarks print figures; they never
// pass or fail on speed.
import * as codec from './codec.js';
import * as receiver from './receiver.js';

const BENCHMARKS: Record<string, { main(): Promise<void> }> = { codec, receiver };

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in BENCHMARKS)) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(64);
  }
}
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHMARKS)) await BENCHMARKS[name]!.main();
