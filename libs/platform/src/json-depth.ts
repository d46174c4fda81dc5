/**
 * A nesting-depth limit for JSON request bodies, and body-parser errors in words. JSON.parse accepts any depth, but
 * the validation layer behind it (class-transformer's recursive `plainToInstance`) overflows the call stack on a body
 * of a few thousand `[`, which was a 500. No Eventcast body nests deeper than a few levels, so bodies deeper than
 * {@link MAX_JSON_DEPTH} are refused (400) before validation.
 */

/** Deepest nesting of arrays/objects accepted in a JSON request body. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when `value` (a parsed JSON value) nests arrays/objects more than `maxDepth` levels deep; a scalar is depth 0,
 * `[]` and `{}` depth 1. Iterative (an explicit stack, no recursion), so a 100,000-deep value is measured safely; it
 * stops at the first branch deeper than the limit. O(nodes visited) time.
 */
export function jsonDepthExceeds(value: unknown, maxDepth: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
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

/** Reasons for Fastify's request errors (its content-type parser and body reader; `code` of a FastifyError). */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed JSON body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed JSON body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported media type: send JSON (content-type application/json)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request size did not match content length',
  FST_ERR_CTP_EMPTY_TYPE: 'empty content-type header',
  FST_ERR_BAD_URL: 'malformed URL (a bad percent-encoding in the path)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is too long',
};

/**
 * The client error a body parser threw while reading a request, as `{ status, message }` with a reason in words; null
 * for anything else. Knows express/body-parser errors (a 4xx `status` and a `type`) and Fastify's (a 4xx `statusCode`
 * and a `FST_ERR_*` `code`; JSON prototype poisoning is a 400 of its own). Never the parser's own message, which can
 * quote the body.
 */
export function bodyParserClientError(err: unknown): { status: number; message: string } | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { status?: unknown; statusCode?: unknown; type?: unknown; code?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('FST_') && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, message: FASTIFY_MESSAGES[e.code] ?? 'bad request' };
  }
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return null;
  return { status: e.status, message: BODY_PARSER_MESSAGES[String(e.type)] ?? 'bad request' };
}
