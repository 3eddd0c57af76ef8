// The layer rules of biome.json (packages never import apps; the gateway engine never imports
// handoff; no import cycles), run by the real Biome with the repository's own configuration on
// small trees of fixture files written to a temporary directory laid out like the repository.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../../..');
const BIOME = join(REPO, 'node_modules/.bin/biome');

interface Finding {
  rule: string;
  path: string;
}

/** Lints `files` (path → source) with the repository's biome.json; returns the exit status and the findings. */
function lint(root: string, files: Record<string, string>): { status: number | null; findings: Finding[] } {
  const config = JSON.parse(readFileSync(join(REPO, 'biome.json'), 'utf8')) as Record<string, unknown>;
  delete config.$schema;
  // The fixture tree is not a git checkout; everything else is the repository's configuration as it is.
  config.vcs = { enabled: false };
  writeFileSync(join(root, 'biome.json'), JSON.stringify(config));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  const run = spawnSync(BIOME, ['lint', '--reporter=json', '--max-diagnostics=none', '.'], { cwd: root, encoding: 'utf8' });
  const report = JSON.parse(run.stdout) as { diagnostics: { category: string; location: { path: string } }[] };
  return { status: run.status, findings: report.diagnostics.map((d) => ({ rule: d.category, path: d.location.path })) };
}

const RESTRICTED = 'lint/style/noRestrictedImports';
const CYCLE = 'lint/suspicious/noImportCycles';

describe('layers', { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  const tree = () => {
    const dir = mkdtempSync(join(tmpdir(), 'nat64-layers-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('passes a tree that keeps the layers', () => {
    const { status, findings } = lint(tree(), {
      'packages/wire/src/index.ts': 'export const ONE = 1;\n',
      'packages/nat64/src/index.ts': "import { ONE } from '@nat64/wire';\nexport const TWO = ONE + 1;\n",
      'apps/gateway/src/engine/engine.ts': "import { TWO } from '@nat64/nat64';\nexport const engine = () => TWO;\n",
      'apps/gateway/src/handoff/handoff.ts': "import { engine } from '../engine/engine.js';\nexport const handoff = () => engine();\n",
      'apps/gateway/src/main.ts': "import { handoff } from './handoff/handoff.js';\nhandoff();\n",
    });
    expect(findings).toEqual([]);
    expect(status).toBe(0);
  });

  it('refuses a package that imports an app, by name or by path, in sources and in tests', () => {
    const { status, findings } = lint(tree(), {
      'packages/handoff-agent/src/by-name.ts': "import { run } from '@nat64/gateway';\nexport const a = run;\n",
      'packages/handoff-agent/test/by-name.test.ts': "import { startReceiver } from '@nat64/receiver';\nexport const b = startReceiver;\n",
      'packages/handoff-agent/test/by-path.test.ts': "import { daemon } from '../../../apps/receiver/src/daemon.js';\nexport const c = daemon;\n",
    });
    expect(findings).toEqual(
      expect.arrayContaining([
        { rule: RESTRICTED, path: 'packages/handoff-agent/src/by-name.ts' },
        { rule: RESTRICTED, path: 'packages/handoff-agent/test/by-name.test.ts' },
        { rule: RESTRICTED, path: 'packages/handoff-agent/test/by-path.test.ts' },
      ]),
    );
    expect(status).not.toBe(0);
  });

  it('refuses a gateway engine that imports handoff, inside the app and as a package', () => {
    const { status, findings } = lint(tree(), {
      'apps/gateway/src/handoff/tracker.ts': 'export const tracker = 1;\n',
      'apps/gateway/src/engine/engine.ts': "import { tracker } from '../handoff/tracker.js';\nexport const engine = tracker;\n",
      'packages/gateway-engine/src/engine.ts': "import { HandoffAgent } from '@nat64/handoff-agent';\nexport const engine = HandoffAgent;\n",
      'packages/gateway-engine/src/by-path.ts': "import { tracker } from '../../../apps/gateway/src/handoff/tracker.js';\nexport const e = tracker;\n",
    });
    expect(findings).toEqual(
      expect.arrayContaining([
        { rule: RESTRICTED, path: 'apps/gateway/src/engine/engine.ts' },
        { rule: RESTRICTED, path: 'packages/gateway-engine/src/engine.ts' },
        { rule: RESTRICTED, path: 'packages/gateway-engine/src/by-path.ts' },
      ]),
    );
    expect(findings.filter((f) => f.path === 'apps/gateway/src/handoff/tracker.ts')).toEqual([]);
    expect(status).not.toBe(0);
  });

  it('refuses an import cycle, including one through a module in between', () => {
    const { status, findings } = lint(tree(), {
      'packages/xlat/src/a.ts': "import { c } from './c.js';\nexport const a = () => c();\n",
      'packages/xlat/src/b.ts': "import { a } from './a.js';\nexport const b = () => a();\n",
      'packages/xlat/src/c.ts': "import { b } from './b.js';\nexport const c = () => b();\n",
    });
    expect(findings).toEqual(
      expect.arrayContaining([
        { rule: CYCLE, path: 'packages/xlat/src/a.ts' },
        { rule: CYCLE, path: 'packages/xlat/src/b.ts' },
        { rule: CYCLE, path: 'packages/xlat/src/c.ts' },
      ]),
    );
    expect(status).not.toBe(0);
  });
});
