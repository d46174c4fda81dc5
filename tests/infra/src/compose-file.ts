/** Reading infra/compose.yaml: services, their environment, the variables Compose interpolates. */
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { read } from './support.js';

/** A YAML mapping. */
export type Obj = Record<string, unknown>;
/** Whether `v` is a mapping. */
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The compose file as YAML data (anchors and merge keys resolved, as Compose does). */
export function loadCompose(): Obj {
  const doc = parse(read('infra', 'compose.yaml'), { merge: true }) as unknown;
  assert.ok(isObj(doc), 'compose.yaml is a mapping');
  return doc;
}

/** The services of the compose file by name. */
export function composeServices(doc: Obj = loadCompose()): Record<string, Obj> {
  const s = doc['services'];
  assert.ok(isObj(s));
  return s as Record<string, Obj>;
}

/** A service's `environment` as a map (mapping or `KEY=value` list form). */
export function serviceEnv(svc: Obj): Map<string, string> {
  const env = svc['environment'];
  const out = new Map<string, string>();
  if (Array.isArray(env)) {
    for (const e of env as string[]) {
      const i = e.indexOf('=');
      out.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
    }
  } else if (isObj(env)) for (const [k, v] of Object.entries(env)) out.set(k, String(v));
  return out;
}

/** Names of the variables `${NAME…}` that Compose interpolates into the file (`$$` is a literal `$`). */
export function interpolatedNames(text: string): { all: string[]; required: string[] } {
  const all = new Set<string>();
  const required = new Set<string>();
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?/g)) {
    all.add(m[1]!);
    if (m[2]?.endsWith('?')) required.add(m[1]!);
  }
  return { all: [...all], required: [...required] };
}

