/** Marks a JWT-guarded route as also open to API tokens with a given scope. */
import { SetMetadata } from '@nestjs/common';
import type { ApiTokenScope } from '@eventcast/events';

/** Metadata key read by the JWT guard. */
export const API_TOKEN_SCOPE = 'eventcast:api-token-scope';

/**
 * `@AcceptsApiToken('chat:send')`: besides a JWT, `Authorization: Bearer ect_…` with this scope is accepted; the request
 * then acts as the token's channel owner (`req.account`) with `req.apiToken` set. Routes without it refuse tokens (403).
 */
export const AcceptsApiToken = (scope: ApiTokenScope) => SetMetadata(API_TOKEN_SCOPE, scope);
