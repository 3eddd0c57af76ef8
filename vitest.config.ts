// One vitest run for the whole monorepo: a project per workspace package, tests run against
// source (the `@nat64/*` imports resolve to each package's src/index.ts, subpaths to src/<name>.ts), and a separate `e2e`
// project for tests that drive built programs across network namespaces.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;
const workspaceDirs = ['packages', 'apps', 'tools'].flatMap((group) =>
  readdirSync(join(root, group), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, group, entry.name, 'package.json')))
    .map((entry) => `${group}/${entry.name}`),
);

const sourceAliases = workspaceDirs.flatMap((dir) => {
  const { name } = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string };
  return [
    { find: new RegExp(`^${name.replace('/', '\\/')}$`), replacement: resolve(root, dir, 'src/index.ts') },
    // Subpath exports (`@nat64/service/addresses`) name one module each.
    { find: new RegExp(`^${name.replace('/', '\\/')}\\/([\\w-]+)$`), replacement: resolve(root, dir, 'src/$1.ts') },
  ];
});

// Namespaces, TUN devices and routes are machine-wide: end-to-end files run one at a time.
const endToEnd = { fileParallelism: false, testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    projects: workspaceDirs.map((dir) => {
      const name = dir.split('/')[1]!;
      return {
        extends: true as const,
        test: {
          name,
          root: join(root, dir),
          include: ['test/**/*.test.ts'],
          ...(name === 'e2e' ? endToEnd : {}),
        },
      };
    }),
  },
});
