/** Entry point: `node dist/main.js`. Configuration from the environment (docs/contracts.md). */
import { createLogger, loadConfig, trustedProxiesFromEnv } from '@eventcast/platform';
import { bootstrapCommandApi } from './bootstrap.js';
import { cookieSecureFromEnv } from './accounts/session-cookie.js';
import { corsOriginsFromEnv, rateLimitsFromEnv, retentionIntervalFromEnv, rtmpsEnabledFromEnv, sessionSettingsFromEnv } from './core/config.js';

const logger = createLogger('command-api');
try {
  const config = {
    ...loadConfig(),
    RATE_LIMITS: rateLimitsFromEnv(),
    ...(process.env['RATE_LIMIT_KEY_PREFIX'] ? { RATE_LIMIT_KEY_PREFIX: process.env['RATE_LIMIT_KEY_PREFIX'] } : {}),
    ...sessionSettingsFromEnv(),
    AUTH_COOKIE_SECURE: cookieSecureFromEnv(),
    CORS_ORIGINS: corsOriginsFromEnv(),
    TRUSTED_PROXIES: trustedProxiesFromEnv(),
    RTMPS_ENABLED: rtmpsEnabledFromEnv(),
    RECORDING_RETENTION_INTERVAL_MS: retentionIntervalFromEnv(),
  };
  await bootstrapCommandApi(config, { logger });
} catch (err) {
  logger.fatal({ err }, 'command-api failed to start');
  process.exitCode = 1;
}
