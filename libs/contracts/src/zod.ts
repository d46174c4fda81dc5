/**
 * The zod instance of the contract modules, configured once for where it runs.
 *
 * In a browser, zod runs without its JIT (`jitless`): zod 4 probes `new Function('')` to compile object parsers, and
 * a page under a Content-Security-Policy without `'unsafe-eval'` (the web app's, README "Security headers") reports
 * every probe as a violation. The setting is process-wide (zod's global config) and is made when this module is
 * first evaluated, i.e. before any contract schema parses. Servers keep the JIT.
 * See https://zod.dev/packages/core ("jitless") and zod's `globalConfig`.
 */
import { z } from 'zod';

if (typeof document !== 'undefined') z.config({ jitless: true });

export { z };
