/**
 * infra/docker/*.Dockerfile without a container engine: dockerfile-utils' linter (the VS Code Docker language
 * server's) finds nothing; each is multi-stage on Node 22 (glibc: uWebSockets.js ships glibc binaries), runs as a
 * non-root user with a health check, copies what the build produces, installs ffmpeg where ffmpeg runs, and starts
 * the ingest with its V8 flags. The runtime stage keeps only production dependencies (`npm prune --omit=dev`), so
 * every package the built code imports must be a `dependencies` entry of the workspace that imports it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { validate } from 'dockerfile-utils';
import { INGEST_NODE_FLAGS } from '@eventcast/launcher';
import { read, repo } from './support.js';

const IMAGES = ['command-api', 'query-api', 'realtime', 'ingest', 'web', 'ops'] as const;

/** Instructions of a Dockerfile: keyword (upper case) and arguments, continuation lines joined, comments left out. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const i = l.search(/\s/);
      return { op: (i < 0 ? l : l.slice(0, i)).toUpperCase(), args: i < 0 ? '' : l.slice(i + 1).trim() };
    });
}

describe('infra/docker/*.Dockerfile', () => {
  for (const image of IMAGES) {
    describe(image, () => {
      const text = read('infra', 'docker', `${image}.Dockerfile`);
      const ins = instructions(text);
      const stages = ins.filter((i) => i.op === 'FROM');
      const lastFrom = ins.lastIndexOf(stages.at(-1)!);
      const runtime = ins.slice(lastFrom);

      it('passes the dockerfile-utils linter', () => {
        const problems = validate(text);
        assert.deepEqual(
          problems.map((p) => `line ${p.range.start.line + 1}: ${typeof p.message === 'string' ? p.message : p.message.value}`),
          [],
        );
      });

      it('builds in one stage and runs from a Node 22 (Debian, glibc) image in another', () => {
        assert.ok(stages.length >= 2, 'multi-stage');
        const arg = ins.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
        assert.match(arg?.args ?? '', /^NODE_IMAGE=node:22[.\d]*-(bookworm|trixie)(-slim)?$/);
        for (const s of stages) assert.match(s.args, /^\$\{NODE_IMAGE\}/);
        assert.ok(ins.some((i) => i.op === 'RUN' && i.args.includes('npm ci')), 'installs exactly package-lock.json (npm ci)');
        assert.ok(ins.some((i) => i.op === 'RUN' && i.args.includes('npm prune --omit=dev')), 'drops dev dependencies');
      });

      it('runs as a non-root user', () => {
        const users = runtime.filter((i) => i.op === 'USER').map((i) => i.args);
        assert.ok(users.length > 0 && !['root', '0'].includes(users.at(-1)!), `USER in the runtime stage: ${users.join(', ')}`);
        const start = runtime.findIndex((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT');
        const user = runtime.findIndex((i) => i.op === 'USER');
        assert.ok(user >= 0 && user < start, 'USER before the start command');
      });

      it('copies what the build stage builds', () => {
        const built = text.match(/npx tsc -b (\S+)/g)?.map((m) => m.replace('npx tsc -b ', '')) ?? [];
        for (const p of built) assert.ok(existsSync(repo(p, 'tsconfig.json')), `tsc -b ${p}: a TypeScript project`);
        for (const c of runtime.filter((i) => i.op === 'COPY' && i.args.includes('--from=build'))) {
          const src = /\/src\/(\S+)/.exec(c.args)?.[1] ?? '';
          const m = /^apps\/([^/]+)\/(dist|build)$/.exec(src);
          if (!m) continue;
          // the app's output directory: tsconfig outDir (dist) or the SvelteKit adapter's `build`
          const tsconfig = existsSync(repo('apps', m[1]!, 'tsconfig.json')) ? read('apps', m[1]!, 'tsconfig.json') : '';
          if (m[2] === 'dist') assert.match(tsconfig, /"outDir":\s*"dist"/, `${src}: apps/${m[1]} builds to dist`);
          else assert.match(read('apps', m[1]!, 'vite.config.ts'), /adapter\(\{\s*out:\s*'build'/, `${src}: the web builds to build`);
        }
      });

      if (image !== 'ops') {
        it('has a health check on the app’s own endpoint', () => {
          const hc = runtime.find((i) => i.op === 'HEALTHCHECK');
          assert.match(hc?.args ?? '', /CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:/);
        });
      }

      if (image === 'ingest' || image === 'command-api') {
        it('installs ffmpeg (packaging, thumbnails, clips)', () => {
          assert.ok(runtime.some((i) => i.op === 'RUN' && /apt-get install .*\bffmpeg\b/.test(i.args)));
        });
      }

      if (image === 'ingest') {
        it("starts node with the launcher's INGEST_NODE_FLAGS", () => {
          const cmd = runtime.filter((i) => i.op === 'CMD').at(-1)?.args ?? '';
          const argv = JSON.parse(cmd) as string[];
          assert.deepEqual(argv.slice(1, 1 + INGEST_NODE_FLAGS.length), [...INGEST_NODE_FLAGS]);
        });
      }
    });
  }

  it('/.dockerignore keeps installed and built files and local state out of the build context', () => {
    const lines = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist', '.eventcast', '.git']) assert.ok(lines.includes(p), `.dockerignore: ${p}`);
  });

  it('every package reachable from an image’s entry point is kept by npm prune --omit=dev', (t) => {
    // What the runtime stage keeps: every workspace's `dependencies` (and theirs); devDependencies are gone.
    const kept = new Set<string>();
    const workspaceOf = new Map<string, string>(); // package name → workspace directory
    for (const d of ['apps', 'libs', 'tests']) {
      for (const n of readdirSync(repo(d))) {
        if (!existsSync(repo(d, n, 'package.json'))) continue;
        const pkg = JSON.parse(read(d, n, 'package.json')) as { name: string; dependencies?: Record<string, string> };
        workspaceOf.set(pkg.name, `${d}/${n}`);
        for (const dep of Object.keys(pkg.dependencies ?? {})) kept.add(dep);
      }
    }
    const entries: Record<string, string> = {
      'command-api': 'apps/command-api/dist/main.js',
      'query-api': 'apps/query-api/dist/main.js',
      realtime: 'apps/realtime/dist/main.js',
      ingest: 'apps/ingest/dist/main.js',
      web: 'apps/web/build/index.js',
      ops: 'apps/ops/dist/main.js',
    };
    const missing: string[] = [];
    const undeclared = new Set<string>();
    for (const [image, entry] of Object.entries(entries)) {
      if (!existsSync(repo(entry))) {
        missing.push(`${image}: ${entry} is not built (run the build first)`);
        continue;
      }
      const found = bareImports(repo(entry), workspaceOf);
      // each app uses third-party packages (pino, prom-client, …): none found means the walk is broken
      assert.ok(found.length > 0, `${image}: no package imports found from ${entry}`);
      t.diagnostic(`${image}: ${[...new Set(found.map((f) => f.name))].sort().join(' ')}`);
      for (const { file, name } of found) {
        const ws = [...workspaceOf.values()].find((w) => file.startsWith(repo(w) + '/'));
        if (!kept.has(name)) missing.push(`${image}: ${file.slice(repo().length)} imports ${name}, which no workspace lists in dependencies`);
        else if (ws) {
          const deps = (JSON.parse(read(ws, 'package.json')) as { dependencies?: Record<string, string> }).dependencies ?? {};
          if (!(name in deps)) undeclared.add(`${ws} imports ${name} (${file.slice(repo().length)}) without listing it in its dependencies: kept only because another workspace does`);
        }
      }
    }
    assert.deepEqual(missing, []);
    // a package kept only because another workspace lists it breaks the day that workspace drops it
    assert.deepEqual([...undeclared], []);
  });
});

/**
 * Bare package names imported (`import`, `import()`, `require()` of createRequire) by the code reachable from
 * `entry`: relative imports are followed file by file,
 * workspace packages (`@eventcast/*`) through their package.json `exports`/`main`; other packages are reported and
 * not followed. Type-only imports are gone from the built JavaScript.
 */
function bareImports(entry: string, workspaceOf: Map<string, string>): { file: string; name: string }[] {
  const out: { file: string; name: string }[] = [];
  const seen = new Set<string>();
  const queue = [entry];
  const re = /(?:^|[;\s})])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/gm;
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    // comments (JSDoc `@import`, bundlers' examples) are not imports
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(re)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4] ?? '';
      // not a module specifier: template text inside generated code (`import("${…}")`)
      if (!/^(\.{1,2}\/|@[a-z0-9][\w.-]*\/|[A-Za-z0-9])/.test(spec)) continue;
      if (isBuiltin(spec)) continue;
      if (spec.startsWith('.')) {
        queue.push(join(dirname(file), spec));
        continue;
      }
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      const ws = workspaceOf.get(name);
      if (!ws) {
        out.push({ file, name });
        continue;
      }
      const pkg = JSON.parse(read(ws, 'package.json')) as { main?: string; exports?: Record<string, string | { default?: string }> };
      const sub = '.' + spec.slice(name.length);
      const exp = pkg.exports?.[sub];
      const target = typeof exp === 'string' ? exp : (exp?.default ?? (sub === '.' ? pkg.main : undefined));
      if (target) queue.push(repo(ws, target));
    }
  }
  return out;
}
