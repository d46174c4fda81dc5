/** @eventcast/ops: the operator CLI (`eventcast-ops`) and its building blocks, for tests and tooling. */
export { createCli, renderStatus, renderVerify, UsageError, type CliIo } from './cli.js';
export { replay, resolveChannel, positionAtTime, ReplayUsageError, CSV_COLUMNS, type ReplayOptions, type ReplayResult } from './replay.js';
export { redactEvent, REDACTED, REDACTED_FIELDS, SENSITIVE_FIELD } from './redact.js';
export { ProgressReporter } from './progress.js';
export { chatHeavyMix, loadEvents, type RawEvent, type MixOptions } from './generate.js';
