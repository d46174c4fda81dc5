/**
 * A private PostgreSQL cluster (the newest installed, {@link findPgBinDir}) for tests that stop and restart the database (never the machine's shared server):
 * `initdb` into a temporary directory, `pg_ctl` on a free loopback port, trust authentication, `fsync=off`.
 * PostgreSQL refuses to run as root, so when the tests run as root the binaries run as the `postgres` user
 * (`runuser`), who owns the directory.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '@eventcast/launcher';

const run = promisify(execFile);

/**
 * Directory of the PostgreSQL server binaries (`initdb`, `pg_ctl`): `env.PG_BIN_DIR`, else the highest version's
 * `<root>/<version>/bin` that holds `initdb` (Debian's layout, `/usr/lib/postgresql/<major>/bin`; versions compared
 * numerically, so 16 beats 9.6), else what `pg_config --bindir` prints, else null (no PostgreSQL found).
 */
export function findPgBinDir(env: NodeJS.ProcessEnv = process.env, root = '/usr/lib/postgresql'): string | null {
  const explicit = env['PG_BIN_DIR'];
  if (explicit) return explicit;
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)*$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')));
  } catch {
    // no Debian layout
  }
  const newest = versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  if (newest) return join(root, newest, 'bin');
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env }).trim();
    return dir || null;
  } catch {
    return null;
  }
}

/** Directory of the PostgreSQL binaries used here: {@link findPgBinDir} (Debian's PostgreSQL 15 path when none is found, so the error names a path). */
export const PG_BIN_DIR = findPgBinDir() ?? '/usr/lib/postgresql/15/bin';

/** A running private cluster. */
export interface PrivatePostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` of the database made by {@link startPrivatePostgres}. */
  url: string;
  /** `pg_ctl stop -m immediate`: every backend killed at once, no shutdown checkpoint (a crash, for the clients). */
  stopImmediate(): Promise<void>;
  /** `pg_ctl start -w`: resolves once the server accepts connections. */
  start(): Promise<void>;
  /** Stops the server (fast mode) and removes its directory. */
  dispose(): Promise<void>;
}

async function pgTool(tool: string, args: string[]): Promise<void> {
  const bin = join(PG_BIN_DIR, tool);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  await run(asRoot ? 'runuser' : bin, asRoot ? ['-u', 'postgres', '--', bin, ...args] : args, { timeout: 60_000 });
}

/**
 * Creates and starts a cluster with one database `database` (default `eventcast`).
 * @throws when initdb or pg_ctl fail (e.g. no PostgreSQL installed at {@link PG_BIN_DIR}).
 */
export async function startPrivatePostgres(database = 'eventcast'): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'eventcast-pg-'));
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  await pgTool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const server: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    stopImmediate: () => pgTool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start: () => pgTool('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']),
    async dispose() {
      await pgTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  return server;
}
