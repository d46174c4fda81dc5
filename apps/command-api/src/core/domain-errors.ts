/**
 * How domain refusals map to HTTP statuses: `*_not_found` → 404, conflicts with existing state → 409, any other
 * broken rule → 422. The DomainError's message is shown as is (it never contains secrets).
 */
import { DomainError } from '@eventcast/domain';

const CONFLICTS = new Set(['username_taken', 'account_exists', 'already_live']);

/** HTTP status of a domain error code. */
export function statusOfDomainError(error: DomainError): number {
  if (error.code.endsWith('_not_found')) return 404;
  if (CONFLICTS.has(error.code)) return 409;
  return 422;
}

export { DomainError };
