// Bundles `nat64-receiver lookup`'s lean path (dist/lookup-main.js and what it imports from the
// workspace) into dist/lookup/: start-up is most of what a lookup costs, and Node resolves and loads
// one module faster than the twenty it is built from. What only some lookups need (commander for an
// unusual command line, the config reader for --config, ipaddr.js for --client) stays in chunks
// loaded on demand. better-sqlite3 is loaded at run time (packages/conntrack/src/sqlite/better-sqlite3.ts),
// not bundled: it finds its native addon relative to its own files.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

const outdir = new URL('../dist/lookup/', import.meta.url).pathname;
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL('../dist/lookup-main.js', import.meta.url).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies bundled into an ES module call require() for Node's built-ins.
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
  logLevel: 'warning',
});
