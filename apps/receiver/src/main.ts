#!/usr/bin/env node
// nat64-receiver: picks the composition root of the command. `lookup` goes to lookup-main.ts,
// which loads only the store and the line format (start-up is most of a lookup's time); every
// other command, and `lookup` after global options or `help lookup`, to cli.ts.
if (process.argv[2] === 'lookup') await import('./lookup-main.js');
else await import('./cli.js');
