/**
 * Username reservation (stream `username-<lowercase name>`): makes usernames unique without a read model. The
 * command side appends `UsernameClaimed` with expected revision `no_stream`, so two racing registrations of one name
 * cannot both succeed (the set-validation pattern of event sourcing: a stream per unique value).
 */
import { RESERVED_USERNAMES } from '@eventcast/contracts';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';

export type UsernameCommand = { type: 'ClaimUsername'; username: string; accountId: string };
export type UsernameEvent = EventOf<'UsernameClaimed'>;
export type UsernameState = { accountId: string | null };

/**
 * Decider of a username reservation. Errors: `username_reserved` ({@link RESERVED_USERNAMES} of @eventcast/contracts,
 * the list the web app's route matcher reads too), `username_taken`.
 */
export const usernameDecider: Decider<UsernameCommand, UsernameEvent, UsernameState> = {
  initialState: () => ({ accountId: null }),
  decide(command, state) {
    switch (command.type) {
      case 'ClaimUsername':
        if (RESERVED_USERNAMES.has(command.username.toLowerCase())) {
          throw new DomainError('username_reserved', `username "${command.username.toLowerCase()}" is reserved by the platform`);
        }
        if (state.accountId !== null) throw new DomainError('username_taken', `username "${command.username}" is taken`);
        return [{ type: 'UsernameClaimed', data: { username: command.username.toLowerCase(), accountId: command.accountId } }];
      default:
        return assertNever(command.type);
    }
  },
  evolve: (_state, event) => ({ accountId: event.data.accountId }),
};
