/**
 * Whether the signed-in user is a platform admin (`admin` of command-api `GET /me`, from EVENTCAST_ADMINS), for the
 * header's Admin link. Only a hint for the UI: query-api answers 403 to non-admins whatever this says.
 */
import { getMe } from './api.ts';

class AdminFlag {
	/** The token the flag was read for, and the answer. */
	private current = $state<{ token: string; admin: boolean } | null>(null);

	/** True once `GET /me` said so for the current token. */
	get admin(): boolean {
		return this.current?.admin === true;
	}

	/**
	 * Reads the flag for `token` (no-op when already known); null clears it. Errors leave it false.
	 * @returns a cleanup that aborts the request (for $effect).
	 */
	follow(token: string | null): () => void {
		if (!token) {
			this.current = null;
			return () => {};
		}
		if (this.current?.token === token) return () => {};
		const ctl = new AbortController();
		getMe(token, ctl.signal)
			.then((me) => (this.current = { token, admin: me.admin === true }))
			.catch(() => {
				if (!ctl.signal.aborted) this.current = { token, admin: false };
			});
		return () => ctl.abort();
	}
}

export const adminFlag = new AdminFlag();
