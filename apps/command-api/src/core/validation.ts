/**
 * The global ValidationPipe: class-validator DTOs, unknown fields refused, payloads transformed into DTO instances.
 * Errors are 400 with every reason in `message` (joined by "; "); rejected values are never echoed.
 */
import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

function reasons(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? Object.values(e.constraints) : [];
    return [...own, ...reasons(e.children ?? [], path)];
  });
}

/** Creates the app-wide pipe (whitelist + forbidNonWhitelisted + transform). */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new BadRequestException(reasons(errors)),
  });
}
