/**
 * Accounts feature: register/login, sessions (refresh-token rotation), access tokens, the owner's stream key. Exports the guard (and what it needs) for the
 * other `/me` routes.
 */
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { JwtModule } from '@nestjs/jwt';
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS } from '@eventcast/contracts';
import { jwtSecretKey } from '@eventcast/platform';
import type { CommandApiConfig } from '../core/config.js';
import { CONFIG } from '../core/tokens.js';
import { ApiTokenAuthenticator } from '../integrations/api-token-authenticator.js';
import { IntegrationsAggregates } from '../integrations/integrations-aggregates.js';
import { AccountReader } from './account-reader.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { RegisterAccountHandler } from './commands/register-account.handler.js';
import { RotateStreamKeyHandler } from './commands/rotate-stream-key.handler.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { MeController } from './me.controller.js';
import { SessionService } from './sessions.js';

/** Accounts module. */
@Module({
  imports: [
    CqrsModule,
    JwtModule.registerAsync({
      inject: [CONFIG],
      useFactory: (config: CommandApiConfig) => ({
        // A KeyObject, not the string: see jwtSecretKey (@eventcast/platform).
        secret: jwtSecretKey(config.JWT_SECRET),
        signOptions: { algorithm: 'HS256', expiresIn: config.AUTH_ACCESS_TOKEN_TTL_SECONDS ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AuthController, MeController],
  // The integrations aggregates and the API-token authenticator live here because the JWT guard needs them.
  providers: [AccountReader, AuthService, SessionService, JwtAuthGuard, RegisterAccountHandler, RotateStreamKeyHandler, IntegrationsAggregates, ApiTokenAuthenticator],
  exports: [AccountReader, AuthService, JwtAuthGuard, IntegrationsAggregates, ApiTokenAuthenticator],
})
export class AccountsModule {}
