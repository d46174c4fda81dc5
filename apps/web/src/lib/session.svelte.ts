/**
 * The signed-in user: the JWT from register/login, kept in localStorage so it survives reloads.
 * The token's `exp` claim is checked locally; the APIs stay the authority (a 401 logs out).
 */
import type { Account, AuthResult } from './api.ts';

const STORAGE_KEY = 'eventcast.session';

interface StoredSession {
	token: string;
	account: Account;
}

function decodeExp(token: string): number | null {
	try {
		const part = token.split('.')[1];
		if (!part) return null;
		const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
		const claims = JSON.parse(json) as { exp?: unknown };
		return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
	} catch {
		return null;
	}
}

function load(): StoredSession | null {
	if (typeof localStorage === 'undefined') return null;
	try {
		const raw = localStorage.getItem(STORAGE_KEY);
		if (!raw) return null;
		const s = JSON.parse(raw) as StoredSession;
		if (typeof s?.token !== 'string' || typeof s?.account?.username !== 'string') return null;
		const exp = decodeExp(s.token);
		if (exp !== null && exp <= Date.now()) {
			localStorage.removeItem(STORAGE_KEY);
			return null;
		}
		return s;
	} catch {
		return null;
	}
}

class Session {
	current = $state<StoredSession | null>(load());

	get token(): string | null {
		return this.current?.token ?? null;
	}
	get user(): Account | null {
		return this.current?.account ?? null;
	}
	get loggedIn(): boolean {
		return this.current !== null;
	}

	signIn(result: AuthResult) {
		this.current = { token: result.token, account: result.account };
		localStorage.setItem(STORAGE_KEY, JSON.stringify(this.current));
	}

	signOut() {
		this.current = null;
		localStorage.removeItem(STORAGE_KEY);
	}

	/** Keep tabs in sync: logging out in one tab logs out the others. */
	listen(): () => void {
		const onStorage = (e: StorageEvent) => {
			if (e.key === STORAGE_KEY || e.key === null) this.current = load();
		};
		window.addEventListener('storage', onStorage);
		return () => window.removeEventListener('storage', onStorage);
	}
}

export const session = new Session();
