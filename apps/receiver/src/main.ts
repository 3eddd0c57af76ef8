#!/usr/bin/env node
// nat64-receiver: picks the composition root of the command. `lookup` goes to lookup-main.ts, which
// loads only the store and the line format (start-up is most of a lookup's time), bundled into one
// module by the build (scripts/bundle-lookup.mjs); every other command, and `lookup` after global
// options or `help lookup`, to cli.ts.
const LEAN_LOOKUP: string = './lookup/lookup-main.js';

if (process.argv[2] === 'lookup') await import(LEAN_LOOKUP);
else await import('./cli.js');
