// Builds the native addon of the package it runs in (packages/tun, packages/sd-notify):
// `node ../../tools/setup/build-native.mjs NAME` makes build/Release/NAME.node with node-gyp, but only
// when a source under native/ or binding.gyp is newer than the built addon, so `build` stays cheap
// when turbo or a developer runs it again. Headers come from the Node installation on this machine
// (npm_config_nodedir, or the include/node next to the running node); never from the network.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const [name] = process.argv.slice(2);
if (!name) {
  console.error("usage: build-native.mjs NAME (the target_name of the package's binding.gyp)");
  process.exit(64);
}
// Package scripts run in their package's directory.
const packageRoot = process.cwd();
const addon = join(packageRoot, `build/Release/${name}.node`);
const inputs = [join(packageRoot, 'binding.gyp'), ...filesUnder(join(packageRoot, 'native'))];

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

function newestMtime(files) {
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

function nodeGyp() {
  // npm and pnpm hand lifecycle scripts the node-gyp they bundle.
  const fromPackageManager = process.env.npm_config_node_gyp;
  if (fromPackageManager && existsSync(fromPackageManager)) return [process.execPath, fromPackageManager];
  const besideNode = join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  if (existsSync(besideNode)) return [process.execPath, besideNode];
  return ['node-gyp'];
}

function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h'))) return prefix;
  console.error(
    `build-native: no Node headers in ${prefix}/include/node; set npm_config_nodedir to a Node ` +
      'installation or source tree with headers (we do not download them)',
  );
  process.exit(1);
}

function run(args) {
  const [command, ...rest] = nodeGyp();
  const result = spawnSync(command, [...rest, ...args, `--nodedir=${nodeDir()}`], {
    cwd: packageRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(`build-native: node-gyp ${args.join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}

if (existsSync(addon) && statSync(addon).mtimeMs >= newestMtime(inputs)) process.exit(0);

const makefile = join(packageRoot, 'build/Makefile');
const bindingGyp = join(packageRoot, 'binding.gyp');
// Configure only when the generated Makefile is missing or older than binding.gyp; make itself
// then recompiles only what changed.
if (!existsSync(makefile) || statSync(makefile).mtimeMs < statSync(bindingGyp).mtimeMs) run(['configure']);
run(['build']);
