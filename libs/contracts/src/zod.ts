/**
 * The zod instance of the contract modules, configured once for where it runs.
 *
 * In a browser, zod runs without its JIT (`jitless`): zod 4 probes `new Function('')` to compile object parsers, and
 * a page under a Content-Security-Policy without `'unsafe-eval'` (the web app's, README "Security headers") reports
 * every probe as a violation. The setting is process-wide (zod's global config) and is made when this module is
 * first evaluated. It must precede the construction of every object schema, not just its first parse: zod 4 reads
 * `allowsEval` (the probe) and `globalConfig.jitless` when a `z.object` is built (zod/v4/core/schemas.js, the
 * `$ZodObjectJIT` initializer), so every contract module imports `z` from here, never from 'zod' (a lint rule in
 * eslint.config.js). Servers keep the JIT.
 * See https://zod.dev/packages/core ("jitless") and zod's `globalConfig`.
 */
import { z } from 'zod';

if (typeof document !== 'undefined') z.config({ jitless: true });

export { z };
