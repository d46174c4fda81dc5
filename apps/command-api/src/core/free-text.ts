/**
 * `@IsFreeText(field)`: the text rule of `@eventcast/contracts` (text.ts; docs/chat.md "Text rules") as a
 * class-validator decorator for the free-text fields of HTTP bodies (title, category, blocked terms, moderation
 * reasons, API token names, webhook URLs). A value with a C0/C1 control character, a bidi embedding/override/isolate or
 * an unpaired surrogate answers 400 with the reason, e.g. "title contains U+0000, a control character; such characters
 * are not allowed". Non-strings pass (the type decorators refuse them). Chat message text is not checked here: the
 * chat room decides it, so that a refused attempt counts toward the sender's rate limit (docs/chat.md rule 7a).
 */
import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { freeTextReason } from '@eventcast/contracts';

/** The first reason a value (or, with `each`, an element of an array value) breaks the text rule. */
function reasonOf(field: string, value: unknown): string | null {
  if (Array.isArray(value)) {
    for (const v of value) {
      const r = freeTextReason(field, v);
      if (r) return r;
    }
    return null;
  }
  return freeTextReason(field, value);
}

/**
 * Refuses strings that break the text rule. `field` names the value in the reason ("title", "each term", …).
 * Works with `{ each: true }` on arrays.
 */
export function IsFreeText(field: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFreeText',
      validator: {
        validate: (value: unknown): boolean => freeTextReason(field, value) === null,
        defaultMessage: (args?: ValidationArguments): string => reasonOf(field, args?.value) ?? `${field} contains characters that are not allowed`,
      },
    },
    options,
  );
}
