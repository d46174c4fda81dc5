/**
 * Access-token verification of the edge (docs/chat.md, "Authenticate"): the command-api's HS256 JWTs signed with the
 * shared `JWT_SECRET`, `sub` = account id, `username` claim. `exp`/`nbf` are enforced by jose when present.
 */
import { errors, jwtVerify } from 'jose';

/** The signed-in user of a connection. */
export interface AuthUser {
  /** Account id (JWT `sub`). */
  id: string;
  /** Username (JWT `username`), lower-case. */
  username: string;
  /** Expiry of the token in ms since the epoch, or null when the token has no `exp`. */
  expiresAt: number | null;
}

/** The token is missing, malformed, wrongly signed, expired or lacks the `sub`/`username` claims. */
export class InvalidTokenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidTokenError';
  }
}

/** Longest token accepted (a real one is ~250 bytes). */
export const MAX_TOKEN_LENGTH = 2048;

/** Verifies access tokens with a fixed secret. */
export class TokenVerifier {
  private readonly key: Uint8Array;

  /** @param secret the shared `JWT_SECRET` (UTF-8). */
  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /**
   * Verifies `token` (HS256 only).
   * @returns the user it names.
   * @throws {InvalidTokenError} for anything but a valid, unexpired token with string `sub` and `username`.
   */
  async verify(token: unknown): Promise<AuthUser> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError('token must be a non-empty string');
    }
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      const { sub, username, exp } = payload as { sub?: unknown; username?: unknown; exp?: unknown };
      if (typeof sub !== 'string' || sub.length === 0 || typeof username !== 'string' || username.length === 0) {
        throw new InvalidTokenError('token lacks the sub or username claim');
      }
      return { id: sub, username, expiresAt: typeof exp === 'number' ? exp * 1000 : null };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      const reason = err instanceof errors.JWTExpired ? 'token expired' : 'token is invalid';
      throw new InvalidTokenError(reason, { cause: err });
    }
  }
}
