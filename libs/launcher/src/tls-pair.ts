/**
 * The quick start's self-signed certificate for RTMPS (issue 10 item 6): `.eventcast/tls/ingest.crt` and
 * `ingest.key`, made on first run with npm `selfsigned` when the deployment configured no certificate of its own.
 * Encoders that verify certificates need one they trust: set INGEST_TLS_CERT_FILE and
 * INGEST_TLS_KEY_FILE (e.g. a Let's Encrypt pair) and the launcher leaves them alone.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** Where {@link ensureSelfSignedTls} keeps the pair: PEM files. */
export interface TlsPairFiles {
  certFile: string;
  keyFile: string;
  /** True when this call generated the pair (first run). */
  created: boolean;
}

/**
 * Returns the self-signed pair under `<stateDir>/tls/`, generating it when either file is missing: an EC P-256 key
 * (mode 0600) and a certificate for `localhost`, 127.0.0.1 and ::1 (plus `extraHosts`), signed with SHA-256, valid for
 * 825 days (the longest lifetime Apple platforms accept for a TLS server certificate).
 * @param extraHosts further DNS names or IP literals the certificate names (e.g. the `--host` of the quick start).
 * @throws {Error} when the directory or files cannot be written.
 */
export async function ensureSelfSignedTls(stateDir: string, extraHosts: string[] = []): Promise<TlsPairFiles> {
  const dir = join(stateDir, 'tls');
  const certFile = join(dir, 'ingest.crt');
  const keyFile = join(dir, 'ingest.key');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ip = (h: string) => /^[0-9.]+$/.test(h) || h.includes(':');
  const hosts = [...new Set(['localhost', '127.0.0.1', '::1', ...extraHosts])];
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'Eventcast local ingest' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 825 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((h) => (ip(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
    ],
  });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return { certFile, keyFile, created: true };
}
