/**
 * infra/compose.yaml without a container engine: valid against the Compose Specification's JSON schema (vendored in
 * tests/infra/schema), and what the platform needs of it — every app built from its Dockerfile with health checks
 * and restart policies, volumes for PostgreSQL, JetStream and media, each app holding only its own NATS password,
 * the ingest's V8 flag, every interpolated variable given in infra/env.example.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { NATS_APP_USERS, natsPasswordSecretName } from '@eventcast/contracts';
import { INGEST_NODE_FLAGS } from '@eventcast/launcher';
import { composeServices, interpolatedNames, isObj, loadCompose, serviceEnv, type Obj } from './compose-file.js';
import { envFileNames, parseEnvFile, read, repo, run, tempDir } from './support.js';

/** The apps' services: they run the platform's code (built from infra/docker). */
const APPS = ['command-api', 'query-api', 'realtime', 'ingest', 'web'] as const;

describe('infra/compose.yaml', () => {
  const text = read('infra', 'compose.yaml');
  const doc = loadCompose();
  const services = composeServices(doc);

  it('is valid against the Compose Specification schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    // The schema names draft-07 as `https://json-schema.org/draft-07/schema`, which Ajv registers under its http:// id:
    // drop the reference, Ajv's default dialect is draft-07.
    const { $schema: _dialect, ...schema } = JSON.parse(read('tests', 'infra', 'schema', 'compose-spec.json')) as Obj;
    const validate = ajv.compile(schema);
    const ok = validate(doc);
    assert.ok(ok, `compose.yaml: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
  });

  it('runs the whole platform: five apps, the ops job, PostgreSQL, Redis, NATS, proxy, Prometheus, Grafana', () => {
    for (const s of [...APPS, 'ops', 'postgres', 'redis', 'nats', 'proxy', 'prometheus', 'grafana']) assert.ok(services[s], `service ${s}`);
  });

  it('gives every long-running service a restart policy and a health check; ops is a job', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (name === 'ops') {
        assert.deepEqual(svc['profiles'], ['ops'], 'ops runs only on request (docker compose run --rm ops …)');
        assert.equal(svc['restart'], 'no');
        continue;
      }
      assert.match(String(svc['restart']), /^(unless-stopped|always|on-failure)/, `${name}: restart policy`);
      const hc = svc['healthcheck'];
      assert.ok(isObj(hc) && Array.isArray(hc['test']), `${name}: healthcheck`);
    }
  });

  it("builds each app from its multi-stage Dockerfile and checks the app's own readiness endpoint", () => {
    const port: Record<string, [string, string]> = {
      'command-api': ['COMMAND_API_PORT', '/ready'],
      'query-api': ['QUERY_API_PORT', '/ready'],
      realtime: ['REALTIME_PORT', '/ready'],
      ingest: ['INGEST_HTTP_PORT', '/ready'],
      web: ['PORT', '/'],
    };
    for (const app of [...APPS, 'ops']) {
      const build = services[app]!['build'];
      assert.ok(isObj(build), `${app}: build`);
      assert.equal(build['context'], '..', `${app}: the repository root is the build context`);
      assert.ok(existsSync(repo('infra', String(build['dockerfile']).replace(/^infra\//, ''))), `${app}: ${String(build['dockerfile'])} exists`);
    }
    for (const app of APPS) {
      const [portVar, path] = port[app]!;
      const env = serviceEnv(services[app]!);
      const test = ((services[app]!['healthcheck'] as Obj)['test'] as string[]).join(' ');
      assert.ok(test.includes(`http://127.0.0.1:${env.get(portVar)}${path}'`), `${app}: health check on ${portVar}=${env.get(portVar)} ${path}: ${test}`);
    }
  });

  it('keeps PostgreSQL, JetStream, live media and recordings on named volumes at the paths the services use', () => {
    const volumes = doc['volumes'];
    assert.ok(isObj(volumes));
    const mounts = (svc: string) => ((services[svc]!['volumes'] ?? []) as string[]).map((v) => v.split(':'));
    const hasMount = (svc: string, vol: string, path: string) =>
      assert.ok(mounts(svc).some(([v, p]) => v === vol && p === path), `${svc}: volume ${vol} at ${path}`);
    hasMount('postgres', 'postgres', '/var/lib/postgresql/data');
    // nats.conf takes its store_dir from NATS_STORE_DIR
    assert.match(read('infra', 'nats', 'nats.conf'), /store_dir:\s*\$NATS_STORE_DIR\b/);
    hasMount('nats', 'jetstream', serviceEnv(services['nats']!).get('NATS_STORE_DIR') ?? '?');
    const ingestEnv = serviceEnv(services['ingest']!);
    hasMount('ingest', 'media', ingestEnv.get('MEDIA_DIR') ?? '?');
    hasMount('ingest', 'recordings', ingestEnv.get('RECORDINGS_DIR') ?? '?');
    hasMount('command-api', 'recordings', serviceEnv(services['command-api']!).get('RECORDINGS_DIR') ?? '?');
    for (const v of ['postgres', 'jetstream', 'media', 'recordings']) assert.ok(v in volumes, `top-level volume ${v}`);
    // bind mounts name files of infra/
    for (const [name, svc] of Object.entries(services))
      for (const [src] of ((svc['volumes'] ?? []) as string[]).map((v) => v.split(':')))
        if (src?.startsWith('./')) assert.ok(existsSync(repo('infra', src)), `${name}: bind mount ${src} exists in infra/`);
  });

  it('gives each app only its own NATS user and password, and RESTREAM_KEY_SECRET only to command-api and ingest', () => {
    const nats = serviceEnv(services['nats']!);
    for (const app of NATS_APP_USERS) {
      const own = natsPasswordSecretName(app);
      assert.match(nats.get(own) ?? '', new RegExp(`^\\$\\{${own}[:?}]`), `nats gets ${own}`);
      const env = serviceEnv(services[app]!);
      assert.equal(env.get('NATS_USER'), app, `${app}: NATS_USER`);
      assert.match(env.get('NATS_PASSWORD') ?? '', new RegExp(`^\\$\\{${own}[:?}]`), `${app}: NATS_PASSWORD from ${own}`);
      for (const other of NATS_APP_USERS.filter((o) => o !== app)) {
        const secret = natsPasswordSecretName(other);
        assert.ok(![...env.values()].some((v) => v.includes(secret)), `${app} must not get ${secret}`);
      }
    }
    for (const [name, svc] of Object.entries(services)) {
      const has = serviceEnv(svc).has('RESTREAM_KEY_SECRET');
      assert.equal(has, name === 'command-api' || name === 'ingest', `${name}: RESTREAM_KEY_SECRET`);
    }
    const web = serviceEnv(services['web']!);
    for (const secret of ['JWT_SECRET', 'STREAM_KEY_SECRET', 'DATABASE_URL', 'NATS_PASSWORD']) assert.ok(!web.has(secret), `web must not get ${secret}`);
  });

  it("starts the ingest with the launcher's V8 flags (INGEST_NODE_FLAGS)", () => {
    const cmd = services['ingest']!['command'] as string[];
    for (const flag of INGEST_NODE_FLAGS) assert.ok(cmd.includes(flag), `ingest command has ${flag}: ${cmd.join(' ')}`);
  });

  it('depends only on services it defines, without cycles', () => {
    const deps = (s: string): string[] => {
      const d = services[s]!['depends_on'];
      return Array.isArray(d) ? (d as string[]) : isObj(d) ? Object.keys(d) : [];
    };
    const seen = new Set<string>();
    const visit = (s: string, path: string[]): void => {
      assert.ok(!path.includes(s), `depends_on cycle: ${[...path, s].join(' → ')}`);
      if (seen.has(s)) return;
      for (const d of deps(s)) {
        assert.ok(services[d], `${s} depends on unknown ${d}`);
        visit(d, [...path, s]);
      }
      seen.add(s);
    };
    for (const s of Object.keys(services)) visit(s, []);
  });

  it('interpolates only variables that infra/env.example lists, and every required one is set there', () => {
    const example = read('infra', 'env.example');
    const listed = new Set(envFileNames(example));
    const set = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=./gm)].map((m) => m[1]!));
    const { all, required } = interpolatedNames(text);
    for (const v of all) assert.ok(listed.has(v), `\${${v}} of compose.yaml is not in infra/env.example`);
    for (const v of required) assert.ok(set.has(v), `required \${${v}:?} has no value in infra/env.example`);
  });

  it('infra/gen-env.sh fills every secret of env.example with a fresh value of the format the apps accept', () => {
    const dir = tempDir('gen-env');
    try {
      cpSync(repo('infra', 'env.example'), join(dir, 'env.example'));
      cpSync(repo('infra', 'gen-env.sh'), join(dir, 'gen-env.sh'));
      const r = run('bash', [join(dir, 'gen-env.sh'), 'stream.example.org']);
      assert.equal(r.status, 0, r.stderr);
      const env = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'));
      assert.equal(env.get('EVENTCAST_DOMAIN'), 'stream.example.org');
      assert.ok(![...env.values()].includes('change-me'), 'no placeholder left');
      for (const k of ['STREAM_KEY_SECRET', 'RESTREAM_KEY_SECRET']) assert.match(env.get(k) ?? '', /^[0-9a-f]{64}$/, k);
      assert.ok((env.get('METRICS_TOKEN') ?? '').length >= 16 && (env.get('JWT_SECRET') ?? '').length >= 16);
      // passwords go into DATABASE_URL and nats.conf: no URL-special characters
      for (const k of ['POSTGRES_PASSWORD', ...NATS_APP_USERS.map(natsPasswordSecretName)]) assert.match(env.get(k) ?? '', /^[A-Za-z0-9]{32,}$/, k);
      assert.notEqual(run('bash', [join(dir, 'gen-env.sh'), 'x.example.org']).status, 0, 'an existing .env is not overwritten');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
