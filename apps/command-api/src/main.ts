/** Entry point: `node dist/main.js`. Configuration from the environment (docs/contracts.md). */
import { createLogger, loadConfig, trustedProxiesFromEnv } from '@eventcast/platform';
import { bootstrapCommandApi } from './bootstrap.js';
import { cookieSecureFromEnv } from './accounts/session-cookie.js';
import { authRateLimitFromEnv, corsOriginsFromEnv, retentionIntervalFromEnv, rtmpsEnabledFromEnv, sessionSettingsFromEnv } from './core/config.js';

const logger = createLogger('command-api');
try {
  const config = {
    ...loadConfig(),
    AUTH_RATE_LIMIT_PER_MINUTE: authRateLimitFromEnv(),
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
