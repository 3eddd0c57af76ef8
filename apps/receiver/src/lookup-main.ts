// `nat64-receiver lookup`, lean: start-up is most of what a lookup costs (an admin runs it by hand,
// a script once per abuse report), so a plain command line is read here (lookup-arguments.ts) and
// answered loading only the store's reader, the time parser and the line format: neither the
// daemon, its logger and config reader, nor commander. Any other command line goes to commander
// (lookup-cli.ts), which answers as the full program does.
import { plainLookupArguments } from './lookup-arguments.js';
import { exitAfterLookupError, runLookup } from './lookup-run.js';

const plain = plainLookupArguments(process.argv.slice(3));
if (plain === undefined) await import('./lookup-cli.js');
else {
  try {
    await runLookup(plain.endpoint, plain.options);
  } catch (error) {
    await exitAfterLookupError(error);
  }
}
