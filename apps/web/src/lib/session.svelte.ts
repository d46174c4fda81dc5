/**
 * The signed-in user (docs/contracts.md "Sessions"). The access token (a JWT of ~15 min) lives in memory only — never
 * in localStorage or sessionStorage, where any injected script could read it long after; the session itself is the
 * HttpOnly refresh cookie that command-api sets on sign-in and rotates on every `POST /auth/refresh`.
 * - On start (each page load) the session is restored by one refresh: {@link Session.ready} turns true when that
 *   settled, so pages redirect to the login only after it.
 * - The access token is refreshed {@link REFRESH_AHEAD_MS} before it expires, when the tab becomes visible with an
 *   expired or expiring token, and when an API answered 401 ({@link Session.handleUnauthorized}).
 * - Tabs share the cookie, so refreshes are serialised across tabs with the Web Locks API: two requests carrying the
 *   same refresh token would count as reuse and revoke the session (RFC 9700 §4.14.2). A tab that refreshed tells the
 *   others on a BroadcastChannel (new token, sign-in, sign-out), so they rarely need a refresh of their own.
 */
import { untrack } from 'svelte';
import { logoutEverywhere, logoutSession, refreshSession, type Account, type AuthResult } from './api.ts';
import { ApiError } from './api/http.ts';

/** Refresh this long before the access token expires, ms. */
export const REFRESH_AHEAD_MS = 60_000;
/** After a failed refresh that was not a refusal (network, 5xx), try again after this long, ms (doubling up to RETRY_MAX_MS). */
const RETRY_MS = 15_000;
const RETRY_MAX_MS = 300_000;
/** A 401 right after a forced refresh is not refreshed again (the APIs refuse fresh tokens: sign in again). */
const FORCED_REFRESH_MIN_INTERVAL_MS = 10_000;
/** Web Locks name of the refresh, and the BroadcastChannel of the tabs. */
const LOCK = 'eventcast.session.refresh';
const CHANNEL = 'eventcast.session';
/** Where earlier versions kept the token (removed on start). */
const LEGACY_STORAGE_KEY = 'eventcast.session';

interface ActiveSession {
	token: string;
	/** Access token expiry, ms since the epoch. */
	expiresAtMs: number;
	account: Account;
}

/** Between tabs; `at` = when it was sent (ms), so a sign-in older than this tab's last sign-out is ignored. */
type TabMessage = { type: 'signed-in'; result: AuthResult; at: number } | { type: 'signed-out'; at: number };

function toActive(result: AuthResult): ActiveSession {
	const expiresAtMs = Date.parse(result.expiresAt);
	return { token: result.token, account: result.account, expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : Date.now() + 60_000 };
}

/** The session of this tab; one instance ({@link session}). */
class Session {
	current = $state<ActiveSession | null>(null);
	/** False until the first restore settled (a page must not send a signed-in user to the login before). */
	ready = $state(false);
	private timer: ReturnType<typeof setTimeout> | undefined;
	private channel: BroadcastChannel | null = null;
	private inflight: Promise<boolean> | null = null;
	/** The restore was started (plain field: {@link start} must read no reactive state, or the effect calling it re-runs). */
	private restoreStarted = false;
	/** When this tab last signed out (ms): tab messages of sign-ins sent before are stale. */
	private signedOutAt = 0;
	private lastForcedAt = 0;
	private retryMs = RETRY_MS;

	get token(): string | null {
		return this.current?.token ?? null;
	}
	get user(): Account | null {
		return this.current?.account ?? null;
	}
	get loggedIn(): boolean {
		return this.current !== null;
	}

	/** After register or login (the reply set the refresh cookie). */
	signIn(result: AuthResult): void {
		this.apply(toActive(result));
		this.ready = true;
		this.post({ type: 'signed-in', result, at: Date.now() });
	}

	/**
	 * Runs a sign-in, password change or the like under the tabs' refresh lock, so no refresh of another tab (with the
	 * cookie this call replaces) is in flight meanwhile, then signs in with its result.
	 */
	async signInWith(call: () => Promise<AuthResult>): Promise<AuthResult> {
		const result = await this.locked(call);
		this.signIn(result);
		return result;
	}

	/**
	 * Logs out: ends the session on the server (revokes the cookie), then forgets the token here and in the other tabs
	 * (also when the server cannot be reached: the cookie's session then idles out).
	 */
	async signOut(): Promise<void> {
		await this.locked(async () => {
			try {
				await logoutSession();
			} catch {
				// Offline: forget locally anyway.
			}
			this.forget();
		});
	}

	/**
	 * "Log out everywhere": ends every session of the account (all devices) on the server, then forgets this one.
	 * @throws ApiError when the server refused or could not be reached (nothing is forgotten then).
	 */
	async signOutEverywhere(): Promise<void> {
		const token = await this.freshToken();
		await this.locked(async () => {
			if (token) await logoutEverywhere(token);
			this.forget();
		});
	}

	/**
	 * An API answered 401 to the current token: refresh once (the token may have expired while the tab slept).
	 * @returns true when a new token is in place (retry the request), false when signed out.
	 */
	async handleUnauthorized(): Promise<boolean> {
		// Several requests failing at once share one refresh; a 401 right after one (of a request sent with the old
		// token, or APIs refusing fresh tokens) refreshes nothing more: no loop against the server.
		if (this.inflight) return this.inflight;
		if (Date.now() - this.lastForcedAt < FORCED_REFRESH_MIN_INTERVAL_MS) return this.current !== null;
		this.lastForcedAt = Date.now();
		return this.refresh(true);
	}

	/**
	 * Starts the session of this tab (the layout calls it once, in the browser): forgets a token earlier versions kept
	 * in localStorage, listens to the other tabs and to visibility, and restores the session from the cookie (once).
	 * Reads no reactive state, so an `$effect` calling it runs once.
	 * @returns a function that stops listening.
	 */
	start(): () => void {
		try {
			localStorage.removeItem(LEGACY_STORAGE_KEY);
		} catch {
			// storage unavailable (private mode): nothing to forget
		}
		if (typeof BroadcastChannel !== 'undefined') {
			this.channel = new BroadcastChannel(CHANNEL);
			this.channel.onmessage = (e: MessageEvent<TabMessage>) => this.onTabMessage(e.data);
		}
		const onVisible = () => {
			if (document.visibilityState === 'visible' && this.current && this.current.expiresAtMs - Date.now() < REFRESH_AHEAD_MS) void this.refresh(false);
		};
		document.addEventListener('visibilitychange', onVisible);
		if (!this.restoreStarted) {
			this.restoreStarted = true;
			untrack(() => void this.refresh(false).finally(() => (this.ready = true)));
		}
		return () => {
			document.removeEventListener('visibilitychange', onVisible);
			this.channel?.close();
			this.channel = null;
			clearTimeout(this.timer);
		};
	}

	/** The current token, refreshed first when it expires within {@link REFRESH_AHEAD_MS}. */
	private async freshToken(): Promise<string | null> {
		if (this.current && this.current.expiresAtMs - Date.now() < REFRESH_AHEAD_MS) await this.refresh(false);
		return this.token;
	}

	/**
	 * One refresh at a time in this tab, and across tabs under the Web Lock; inside the lock a token another tab
	 * handed over meanwhile is used as is (unless `force`: the APIs refused it).
	 * @returns whether a valid token is in place afterwards.
	 */
	private refresh(force: boolean): Promise<boolean> {
		this.inflight ??= this.locked(async () => {
			const before = this.current;
			if (!force && before && before.expiresAtMs - Date.now() >= REFRESH_AHEAD_MS) return true;
			try {
				const result = await refreshSession();
				this.retryMs = RETRY_MS;
				this.apply(toActive(result));
				this.post({ type: 'signed-in', result, at: Date.now() });
				return true;
			} catch (err) {
				if (err instanceof ApiError && err.status === 401) {
					// No session (never signed in, logged out, revoked, expired): signed out everywhere this cookie is.
					if (this.current !== null) this.forget();
					return false;
				}
				// Unreachable or failing server: keep what we have, try again later (backing off).
				this.schedule(this.retryMs);
				this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
				return this.current !== null && this.current.expiresAtMs > Date.now();
			}
		}).finally(() => (this.inflight = null));
		return this.inflight;
	}

	private locked<T>(fn: () => Promise<T>): Promise<T> {
		const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
		return locks ? locks.request(LOCK, fn) : fn();
	}

	private onTabMessage(msg: TabMessage): void {
		if (msg?.type === 'signed-in' && msg.result) {
			if (!(msg.at > this.signedOutAt)) return; // sent before this tab signed out: stale
			this.apply(toActive(msg.result));
			this.ready = true;
		} else if (msg?.type === 'signed-out') {
			this.signedOutAt = Math.max(this.signedOutAt, msg.at ?? Date.now());
			this.clear();
		}
	}

	/** Signs out here and in the other tabs (no server call). */
	private forget(): void {
		this.signedOutAt = Date.now();
		this.clear();
		this.post({ type: 'signed-out', at: this.signedOutAt });
	}

	private apply(next: ActiveSession): void {
		this.current = next;
		this.schedule(Math.max(5_000, next.expiresAtMs - Date.now() - REFRESH_AHEAD_MS));
	}

	private clear(): void {
		clearTimeout(this.timer);
		this.current = null;
	}

	private schedule(ms: number): void {
		clearTimeout(this.timer);
		this.timer = setTimeout(() => void this.refresh(false), ms);
	}

	private post(msg: TabMessage): void {
		this.channel?.postMessage(msg);
	}
}

export const session = new Session();
