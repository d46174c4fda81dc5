/**
 * Blocked-terms matching: case-insensitive, whole words, Unicode-aware. A term matches when it is not preceded or
 * followed by a word character (`\p{L}`, `\p{M}`, `\p{N}` or `_`), so "ass" matches "Ass!" but not "class" or
 * "naïveass". Multi-word terms match with their inner spaces as written.
 */

/** Most terms per room and longest term (the `ChatBlockedTermsUpdated` schema). */
export const MAX_BLOCKED_TERMS = 500;
export const MAX_BLOCKED_TERM_LENGTH = 50;

const WORD = '[\\p{L}\\p{M}\\p{N}_]';

function escape(term: string): string {
  return term.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
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

/** One regex (flags `giu`) matching any of `terms` as a whole word, longest first; null when there are none. */
export function compileBlockedTerms(terms: readonly string[]): RegExp | null {
  if (terms.length === 0) return null;
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map(escape);
  return new RegExp(`(?<!${WORD})(?:${alternatives.join('|')})(?!${WORD})`, 'giu');
}

/** Replaces each match of `pattern` in `text` with `*` × its length. @returns the text and the number of matches. */
export function maskBlockedTerms(text: string, pattern: RegExp | null): { text: string; count: number } {
  if (!pattern) return { text, count: 0 };
  let count = 0;
  const masked = text.replace(pattern, (m) => {
    count++;
    return '*'.repeat(m.length);
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
