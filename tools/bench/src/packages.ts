// The benchmarks' outside programs (TAYGA, iperf3, gcc, ...): installed from Debian with apt-get
// when missing and the benchmark runs as root, so one command on a fresh machine runs everything.
import { execFileSync, spawnSync } from 'node:child_process';

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure each command exists, installing its Debian package (`command: package`) where it does
 * not. Returns the commands still missing afterwards (not root, no apt-get, or the install failed).
 */
export function ensureCommands(packages: Record<string, string>): string[] {
  const missing = Object.keys(packages).filter((command) => !has(command));
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0 || !has('apt-get')) return missing;
  const names = [...new Set(missing.map((command) => packages[command]!))];
  console.log(`installing ${names.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { stdio: 'inherit', env }).status === 0;
  if (!install()) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    install();
  }
  return missing.filter((command) => !has(command));
}
