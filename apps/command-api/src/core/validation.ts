/**
 * The global ValidationPipe: class-validator DTOs, unknown fields refused, payloads transformed into DTO instances.
 * Errors are 400 with every reason in `message` (joined by "; "); rejected values are never echoed. Bodies nesting
 * deeper than MAX_JSON_DEPTH are refused first: class-transformer recurses per level and overflowed the call stack
 * (a 500) on a body of a few thousand `[`.
 */
import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '@eventcast/platform';

function reasons(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? Object.values(e.constraints) : [];
    return [...own, ...reasons(e.children ?? [], path)];
  });
}

/** The ValidationPipe with a depth check of request bodies before class-transformer sees them. */
class DepthLimitedValidationPipe extends ValidationPipe {
  /** @throws {BadRequestException} for a body deeper than MAX_JSON_DEPTH; otherwise as ValidationPipe. */
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && jsonDepthExceeds(value)) throw new BadRequestException(`JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

/** Creates the app-wide pipe (whitelist + forbidNonWhitelisted + transform, bodies at most MAX_JSON_DEPTH deep). */
export function createValidationPipe(): ValidationPipe {
  return new DepthLimitedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new BadRequestException(reasons(errors)),
  });
}
