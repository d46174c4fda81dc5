/**
 * Where the private PostgreSQL's binaries are found: PG_BIN_DIR, else the highest Debian version directory
 * (numeric order), else `pg_config --bindir`. On a fake /usr/lib/postgresql tree; no server is started.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findPgBinDir } from './private-postgres.js';

describe('findPgBinDir', () => {
  it('prefers PG_BIN_DIR, then the highest installed version, then pg_config', () => {
    const root = mkdtempSync(join(tmpdir(), 'eventcast-pglib-'));
    try {
      for (const v of ['9.6', '15', '16']) {
        mkdirSync(join(root, v, 'bin'), { recursive: true });
        writeFileSync(join(root, v, 'bin', 'initdb'), '');
      }
      mkdirSync(join(root, '17', 'bin'), { recursive: true }); // no initdb: a client-only package
      assert.equal(findPgBinDir({ PG_BIN_DIR: '/opt/pg/bin' }, root), '/opt/pg/bin');
      assert.equal(findPgBinDir({}, root), join(root, '16', 'bin'), '16 beats 9.6 (numeric, not text, order)');
      // No Debian layout and no pg_config on PATH: nothing found.
      assert.equal(findPgBinDir({ PATH: '/nonexistent' }, join(root, 'missing')), null);
      const bin = join(root, 'fakebin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'pg_config'), '#!/bin/sh\necho /opt/postgres/bin\n', { mode: 0o755 });
      assert.equal(findPgBinDir({ PATH: bin }, join(root, 'missing')), '/opt/postgres/bin');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
