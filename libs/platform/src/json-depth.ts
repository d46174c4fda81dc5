/**
 * A nesting-depth limit for JSON request bodies. JSON.parse accepts any depth, but the validation layer behind it
 * (class-transformer's recursive `plainToInstance`) overflows the call stack on a body of a few thousand `[`, which
 * became a 500 for everyone's request on that worker while it unwound. No Eventcast body nests deeper than a few
 * levels, so bodies deeper than {@link MAX_JSON_DEPTH} are refused before parsing.
 */

/** Deepest nesting of arrays/objects accepted in a JSON request body. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when the JSON text in `bytes` opens more than `maxDepth` arrays/objects inside each other. A single linear scan
 * over the UTF-8 bytes that skips string contents (RFC 8259 §7: a string ends at an unescaped `"`); it does not
 * validate the JSON (the parser does that next). O(n) time, O(1) memory.
 */
export function jsonDepthExceeds(bytes: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The error a body-parser `verify` hook throws for a too-deep body: HTTP 400, body-parser type `entity.too.deep`. */
export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly statusCode = 400;
  readonly expose = true;
  readonly type = 'entity.too.deep';
  constructor(maxDepth: number) {
    super(`JSON body nests deeper than ${maxDepth} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * A body-parser `verify` option (`(req, res, buf) => void`, as express.json / Nest's `useBodyParser('json', …)` take)
 * that refuses bodies nesting deeper than `maxDepth` with {@link JsonTooDeepError} (400).
 */
export function verifyJsonDepth(maxDepth: number = MAX_JSON_DEPTH): (req: unknown, res: unknown, buf: Buffer) => void {
  return (_req, _res, buf) => {
    if (jsonDepthExceeds(buf, maxDepth)) throw new JsonTooDeepError(maxDepth);
  };
}

/** Reasons for body-parser's error types (never the parser's own message: it can quote the body, e.g. a password). */
const BODY_PARSER_MESSAGES: Record<string, string> = {
  'entity.parse.failed': 'malformed JSON body',
  'entity.too.large': 'request body too large',
  'entity.verify.failed': 'request body refused',
  'encoding.unsupported': 'unsupported body encoding',
  'charset.unsupported': 'unsupported body charset',
  'request.aborted': 'request aborted',
  'request.size.invalid': 'request size did not match content length',
};

/**
 * The client error a body parser threw while reading a request (express/body-parser errors carry a 4xx `status` and a
 * `type`), as `{ status, message }` with a reason in words; null for anything else.
 */
export function bodyParserClientError(err: unknown): { status: number; message: string } | null {
  if (err instanceof JsonTooDeepError) return { status: 400, message: err.message };
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { status?: unknown; type?: unknown };
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return null;
  return { status: e.status, message: BODY_PARSER_MESSAGES[String(e.type)] ?? 'bad request' };
}
