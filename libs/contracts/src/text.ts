/**
 * The one rule for user-written text (issue 9, items 1 and 6; docs/chat.md "Text rules"): chat messages, channel
 * title and category, blocked terms, moderation reasons, API token names, webhook URLs — every free-text field that
 * reaches an event.
 *
 * Refused (never stripped: the sender learns what is wrong, and what is stored is what was sent):
 * - C0 and C1 control characters, U+0000–U+001F, U+007F and U+0080–U+009F (Unicode "Cc"; includes NUL, which
 *   PostgreSQL's jsonb cannot store, and tab and line breaks: every such field is a single line);
 * - the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069 (Unicode Standard Annex #9,
 *   "Explicit Directional Formatting Characters"), which let a user visually reverse the text after theirs
 *   ("Trojan Source", CVE-2021-42574). The implicit marks U+200E, U+200F and U+061C stay allowed: they only help
 *   right-to-left text and cannot reorder anything past the end of the field;
 * - unpaired surrogates (a string that is not well-formed UTF-16 cannot be encoded as UTF-8; PostgreSQL's jsonb
 *   refuses `\ud800`).
 *
 * Lengths of chat messages count user-perceived characters: extended grapheme clusters (Unicode Standard Annex #29)
 * as `Intl.Segmenter` with `granularity: 'grapheme'` splits them, as Twitch counts its 500-character limit. So an
 * emoji (even a family emoji of seven code points) or a letter with combining accents counts once.
 *
 * Browser-safe (only zod and ECMAScript `Intl`): the web app's chat counter imports the same functions.
 */
import { z } from './zod.js';

/** Most user-perceived characters (graphemes) of a chat message after trimming (Twitch allows 500). */
export const CHAT_MESSAGE_MAX_LENGTH = 500;

/**
 * Most UTF-16 code units of a chat message's text as received (HTTP body, NATS `chat.send`): a bound on work and
 * storage, far above what {@link CHAT_MESSAGE_MAX_LENGTH} graphemes of ordinary text take (a grapheme may carry
 * any number of combining marks, so the grapheme limit alone bounds nothing).
 */
export const CHAT_MESSAGE_MAX_CODE_UNITS = 4000;

/** A refused character class (for reasons and tests). */
export type RefusedCharacterKind = 'control' | 'bidi' | 'surrogate';

/**
 * One refused character: a C0/C1 control, a bidi embedding/override/isolate, or an unpaired surrogate (a lead not
 * followed by a trail, or a trail not preceded by a lead). No `u` flag: surrogates must be seen one by one.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this rule refuses
const REFUSED = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const REFUSED_GLOBAL = new RegExp(REFUSED.source, 'g');

/** What is wrong with one refused character, in words. */
function kindOf(unit: number): RefusedCharacterKind {
  if (unit >= 0xd800 && unit <= 0xdfff) return 'surrogate';
  if ((unit >= 0x202a && unit <= 0x202e) || (unit >= 0x2066 && unit <= 0x2069)) return 'bidi';
  return 'control';
}

const KIND_WORDS: Record<RefusedCharacterKind, string> = {
  control: 'a control character',
  bidi: 'a bidirectional formatting character, which could reverse the text around it',
  surrogate: 'an unpaired surrogate (the text is not valid Unicode)',
};

/** The first refused character of a text. */
export interface TextProblem {
  kind: RefusedCharacterKind;
  /** The UTF-16 code unit, e.g. 0x202e. */
  codeUnit: number;
  /** Its index in the string (UTF-16 code units). */
  index: number;
  /** E.g. "contains U+202E, a bidirectional formatting character, which could reverse the text around it". */
  reason: string;
}

/** `U+XXXX` of a code unit (at least four hex digits, as the Unicode Standard writes code points). */
export function codePointLabel(unit: number): string {
  return `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first character of `text` that the text rule refuses (see the module comment), or null when it is clean.
 * Linear in the length of `text`.
 */
export function findTextProblem(text: string): TextProblem | null {
  const m = REFUSED.exec(text);
  if (!m) return null;
  const codeUnit = m[0].charCodeAt(0);
  const kind = kindOf(codeUnit);
  return { kind, codeUnit, index: m.index, reason: `contains ${codePointLabel(codeUnit)}, ${KIND_WORDS[kind]}` };
}

/** True when `text` has nothing the text rule refuses. */
export function isCleanText(text: string): boolean {
  return !REFUSED.test(text);
}

/**
 * `text` with every refused character replaced by U+FFFD (the replacement character). Only for reading back what was
 * stored before the rule existed (tolerant reader); new input is refused, never repaired.
 */
export function replaceRefusedCharacters(text: string): string {
  return text.replace(REFUSED_GLOBAL, '\ufffd');
}

let segmenter: Intl.Segmenter | null = null;

/**
 * Number of user-perceived characters (extended grapheme clusters, UAX #29) of `text`, as `Intl.Segmenter` with
 * `granularity: 'grapheme'` counts them. "👍" is 1, "e\u0301" is 1, "👨‍👩‍👧" is 1, "abc" is 3.
 */
export function graphemeLength(text: string): number {
  // Pure ASCII without CR (CR LF is one cluster) is one grapheme per code unit: skip the segmenter.
  // eslint-disable-next-line no-control-regex -- ASCII fast path
  if (/^[\u0000-\u000c\u000e-\u007f]*$/.test(text)) return text.length;
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

/** Options of {@link freeText}. */
export interface FreeTextOptions {
  /** Fewest graphemes (default 0). */
  min?: number;
  /** Most graphemes (default: no limit besides `maxCodeUnits`). */
  max?: number;
  /** Most UTF-16 code units (default: none). */
  maxCodeUnits?: number;
}

/**
 * A zod refinement that applies the text rule and grapheme lengths to a string schema, for event schemas and request
 * payloads: `z.string().superRefine(textRefinement({ max: 500 }))`. Issues say which character or length is wrong.
 */
export function textRefinement(options: FreeTextOptions = {}): (value: string, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    const problem = findTextProblem(value);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: `${problem.reason}; such characters are not allowed` });
      return;
    }
    if (options.maxCodeUnits !== undefined && value.length > options.maxCodeUnits) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${options.maxCodeUnits} UTF-16 code units` });
      return;
    }
    if (options.min === undefined && options.max === undefined) return;
    const n = graphemeLength(value);
    if (options.min !== undefined && n < options.min) ctx.addIssue({ code: 'custom', message: `must be at least ${options.min} characters` });
    if (options.max !== undefined && n > options.max) ctx.addIssue({ code: 'custom', message: `must be at most ${options.max} characters` });
  };
}

/** A string schema under the text rule, with lengths in graphemes (see {@link textRefinement}). */
export function freeText(options: FreeTextOptions = {}): z.ZodType<string> {
  return z.string().superRefine(textRefinement(options));
}

/**
 * The reason a free-text field is refused, for class-validator DTOs and hand-written parsers: null when `value` is not
 * a string (the type check says so) or is clean, else e.g. "title contains U+0000, a control character; such
 * characters are not allowed".
 */
export function freeTextReason(field: string, value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const problem = findTextProblem(value);
  return problem ? `${field} ${problem.reason}; such characters are not allowed` : null;
}

/**
 * How the chat counts a draft message: graphemes of the trimmed text and whether it may be sent as far as length and
 * characters go (room rules aside). The web chat input's counter shows `length`/{@link CHAT_MESSAGE_MAX_LENGTH}.
 */
export function chatTextStatus(draft: string): { length: number; tooLong: boolean; problem: TextProblem | null } {
  const text = draft.trim();
  const length = graphemeLength(text);
  return { length, tooLong: length > CHAT_MESSAGE_MAX_LENGTH || text.length > CHAT_MESSAGE_MAX_CODE_UNITS, problem: findTextProblem(text) };
}
