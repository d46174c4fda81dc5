/**
 * Every environment variable a deployment sets — in infra/compose.yaml (service environments and the variables it
 * interpolates), infra/env.example, the systemd env examples and the units' `Environment=` lines — is documented in
 * docs/contracts.md: named in backquotes in one of its tables or its settings lists.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { composeServices, interpolatedNames, serviceEnv } from './compose-file.js';
import { envFileNames, read, repo } from './support.js';

/** Variable names docs/contracts.md documents: every `NAME` in backquotes (tables and settings lists). */
export function documentedVariables(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/`([^`\n]+)`/g)) for (const n of m[1]!.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,})\b/g)) out.add(n[1]!);
  return out;
}

/** Where each variable of the deployment files is set: name → files. */
function deploymentVariables(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (name: string, where: string) => out.set(name, (out.get(name) ?? new Set()).add(where));
  const compose = read('infra', 'compose.yaml');
  for (const [name, svc] of Object.entries(composeServices())) for (const k of serviceEnv(svc).keys()) add(k, `compose.yaml service ${name}`);
  for (const v of interpolatedNames(compose).all) add(v, 'compose.yaml ${…}');
  for (const v of envFileNames(read('infra', 'env.example'))) add(v, 'infra/env.example');
  for (const f of readdirSync(repo('infra', 'systemd', 'env'))) for (const v of envFileNames(read('infra', 'systemd', 'env', f))) add(v, `infra/systemd/env/${f}`);
  for (const f of readdirSync(repo('infra', 'systemd')).filter((n) => n.endsWith('.service')))
    for (const m of read('infra', 'systemd', f).matchAll(/^Environment=([A-Z][A-Z0-9_]*)=/gm)) add(m[1]!, `infra/systemd/${f}`);
  return out;
}

describe('environment variables of infra/ are documented in docs/contracts.md', () => {
  it('every variable set or interpolated by compose, the env examples and the units', () => {
    const documented = documentedVariables(read('docs', 'contracts.md'));
    const vars = deploymentVariables();
    assert.ok(vars.size > 40, `${vars.size} variables found`);
    const missing = [...vars].filter(([n]) => !documented.has(n)).map(([n, where]) => `${n} (${[...where].join(', ')})`);
    assert.deepEqual(missing, []);
  });

  it('the docs parser finds names in tables and lists, not in plain words', () => {
    const d = documentedVariables('| a | `COMMAND_API_PORT` | 4001 |\n- `QUERY_API_BATCH_SIZE` (256) and `HOST=0.0.0.0`; DATABASE_URL unquoted');
    assert.deepEqual([...d].sort(), ['COMMAND_API_PORT', 'HOST', 'QUERY_API_BATCH_SIZE']);
  });
});
