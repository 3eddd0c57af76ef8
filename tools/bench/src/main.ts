#!/usr/bin/env node
// pnpm bench: every benchmark in turn, or the ones named (`pnpm bench codec receiver`). Each is a
// script of its own (node tools/bench/dist/<name>.js) that prints a table and writes
// bench-results/<name>.json; this runner only starts them one after the other, so they never
// compete for the machine. Benchmarks print figures; they never pass or fail on speed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHMARKS: Record<string, { flags: string[]; needsRoot: boolean }> = {
  codec: { flags: ['--expose-gc'], needsRoot: false },
  receiver: { flags: [], needsRoot: false },
  'receiver-store': { flags: [], needsRoot: false },
  'receiver-retention': { flags: [], needsRoot: false },
  'receiver-lookup': { flags: [], needsRoot: false },
  'gateway-engine': { flags: ['--expose-gc'], needsRoot: false },
  'gateway-evicted': { flags: [], needsRoot: false },
  'handoff-engine': { flags: [], needsRoot: false },
  'gateway-datapath': { flags: [], needsRoot: true },
  'gateway-handoff': { flags: [], needsRoot: true },
  'gateway-first-datagram': { flags: [], needsRoot: true },
  'gateway-capacity': { flags: [], needsRoot: true },
  'gateway-idle': { flags: [], needsRoot: true },
  'bypass-server': { flags: [], needsRoot: true },
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in BENCHMARKS)) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(64);
  }
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHMARKS)) {
  const { flags, needsRoot } = BENCHMARKS[name]!;
  if (needsRoot && process.getuid?.() !== 0) {
    console.log(`\n${name}: skipped (needs root for network namespaces)`);
    continue;
  }
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(process.execPath, [...flags, join(import.meta.dirname, `${name}.js`)], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${name}: exited with ${result.status ?? result.signal}`);
    failed++;
  }
}
process.exitCode = failed > 0 ? 1 : 0;
