/** PostgreSQL database provisioning for the quick start. */
import pg from 'pg';

/**
 * Creates the database named in `url` when it does not exist (connecting to the server's `postgres` database).
 * @returns true when it was created.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`unsupported database name "${name}"`);
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount) return false;
    await c.query(`CREATE DATABASE ${name}`);
    return true;
  } finally {
    await c.end();
  }
}
