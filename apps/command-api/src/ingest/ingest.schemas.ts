/**
 * The NATS request bodies of CommandPatterns are declared once in @eventcast/contracts (ingest-commands.ts, nats.ts),
 * shared with apps/ingest's command client; here, the error reply for bad input and the parser every NATS handler uses.
 */
import type { z } from 'zod';

/** Reply to a request that failed validation. */
export interface InvalidRequest {
  code: 'invalid_request';
  message: string;
}

/** Parses `input` with `schema`. @returns the data, or an {@link InvalidRequest} naming every bad field. */
export function parseRequest<T>(schema: z.ZodType<T>, input: unknown): { ok: true; data: T } | { ok: false; error: InvalidRequest } {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, data: r.data };
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, error: { code: 'invalid_request', message: `invalid request: ${issues.join('; ')}` } };
}
