import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule } from '../accounts/accounts.module.js';
import { ChangeIntegrationsHandler } from './commands/integrations.handler.js';
import { IntegrationsController } from './integrations.controller.js';

/**
 * Integrations (docs/contracts.md "Integrations"): the owner's API tokens and webhooks. The aggregates and the
 * API-token authenticator are provided by AccountsModule, whose JWT guard accepts `ect_…` tokens.
 */
@Module({
  imports: [CqrsModule, AccountsModule],
  controllers: [IntegrationsController],
  providers: [ChangeIntegrationsHandler],
})
export class IntegrationsModule {}
