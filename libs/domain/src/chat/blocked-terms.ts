/**
 * Blocked-terms matching: case-insensitive, whole words, Unicode-aware. A term matches when it is not preceded or
 * followed by a word character (`\p{L}`, `\p{M}`, `\p{N}` or `_`), so "ass" matches "Ass!" but not "class" or
 * "naïveass". Multi-word terms match with their inner spaces as written. Any character may appear in a term
 * (punctuation such as "f-word", "c++", "a.b" included): everything but letters, digits and spaces is written into the
 * pattern as a `\u{…}` code point escape, which is valid under the `u` flag for every code point (ECMA-262,
 * "RegExpUnicodeEscapeSequence"), so compiling a stored list can never fail.
 */
import { graphemeLength } from '@eventcast/contracts';

/** Most terms per room and longest term (the `ChatBlockedTermsUpdated` schema). */
export const MAX_BLOCKED_TERMS = 500;
export const MAX_BLOCKED_TERM_LENGTH = 50;

const WORD = '[\\p{L}\\p{M}\\p{N}_]';

/**
 * A term as a regex source matching it literally under the `u` flag: letters, digits and spaces as they are, every
 * other code point as `\u{hex}`. (Backslash-escaping punctuation is not an option: under `u` only the syntax
 * characters may be escaped, and `\-` is a SyntaxError.)
 */
function escape(term: string): string {
  let out = '';
  for (const ch of term) out += /^[\p{L}\p{N} ]$/u.test(ch) ? ch : `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`;
  return out;
}

/**
 * Normalizes terms as stored: trimmed, lower-case, de-duplicated, empty ones dropped, in first-seen order.
 * Does not enforce limits (the decider does).
 */
export function normalizeBlockedTerms(terms: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const t of terms) {
    const n = t.trim().toLowerCase();
    if (n.length > 0) seen.add(n);
  }
  return [...seen];
}

/**
 * One regex (flags `giu`) matching any of `terms` as a whole word, longest first; null when there are none.
 * @throws {SyntaxError} never for terms the decider accepted (see the module comment); the decider compiles every
 *   new list before recording it, so a failure there is a refusal (`invalid_terms`), and the fold uses
 *   {@link compileStoredBlockedTerms}.
 */
export function compileBlockedTerms(terms: readonly string[]): RegExp | null {
  if (terms.length === 0) return null;
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map(escape);
  return new RegExp(`(?<!${WORD})(?:${alternatives.join('|')})(?!${WORD})`, 'giu');
}

/**
 * {@link compileBlockedTerms} for the fold (`evolve`), which must never throw: a list that cannot be compiled (none
 * can today) compiles term by term, dropping only the terms that fail.
 */
export function compileStoredBlockedTerms(terms: readonly string[]): RegExp | null {
  try {
    return compileBlockedTerms(terms);
  } catch {
    const usable = terms.filter((t) => {
      try {
        compileBlockedTerms([t]);
        return true;
      } catch {
        return false;
      }
    });
    try {
      return compileBlockedTerms(usable);
    } catch {
      return null;
    }
  }
}

/**
 * Replaces each match of `pattern` in `text` with one `*` per user-perceived character (grapheme) of the match, so
 * masking never changes the message's length as the chat counts it. @returns the text and the number of matches.
 */
export function maskBlockedTerms(text: string, pattern: RegExp | null): { text: string; count: number } {
  if (!pattern) return { text, count: 0 };
  let count = 0;
  const masked = text.replace(pattern, (m) => {
    count++;
    return '*'.repeat(graphemeLength(m));
  });
  return { text: masked, count };
}

/** True when `text` contains a match of `pattern`. */
export function hasBlockedTerm(text: string, pattern: RegExp | null): boolean {
  if (!pattern) return false;
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}
