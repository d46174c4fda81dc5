import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@eventcast/events';

/** Registers an account: claims `username` (already lower-cased and validated), then records the account and its first stream key. */
export class RegisterAccountCommand extends Command<{ accountId: string; username: string }> {
  constructor(
    readonly username: string,
    /** Plaintext, only hashed by the handler; never logged or stored. */
    readonly password: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
