/**
 * Username reservation (stream `username-<lowercase name>`): makes usernames unique without a read model. The
 * command side appends `UsernameClaimed` with expected revision `no_stream`, so two racing registrations of one name
 * cannot both succeed (the set-validation pattern of event sourcing: a stream per unique value).
 */
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';

export type UsernameCommand = { type: 'ClaimUsername'; username: string; accountId: string };
export type UsernameEvent = EventOf<'UsernameClaimed'>;
export type UsernameState = { accountId: string | null };

/** Decider of a username reservation. Error: `username_taken`. */
export const usernameDecider: Decider<UsernameCommand, UsernameEvent, UsernameState> = {
  initialState: () => ({ accountId: null }),
  decide(command, state) {
    switch (command.type) {
      case 'ClaimUsername':
        if (state.accountId !== null) throw new DomainError('username_taken', `username "${command.username}" is taken`);
        return [{ type: 'UsernameClaimed', data: { username: command.username.toLowerCase(), accountId: command.accountId } }];
      default:
        return assertNever(command.type);
    }
  },
  evolve: (_state, event) => ({ accountId: event.data.accountId }),
};
