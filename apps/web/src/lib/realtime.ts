/**
 * Client for the realtime WebSocket edge (docs/contracts.md, "realtime WebSocket /ws").
 *
 * - one shared connection per page, opened lazily on the first subscription and closed when the last one goes;
 * - reconnects with exponential backoff and jitter (0.5 s → 15 s), resubscribes every channel on reconnect;
 * - pings every 20 s so idle proxies keep the connection open;
 * - after a reconnect each subscriber's `onResync` is called: events may have been missed while offline,
 *   so the page should re-read the current state over HTTP.
 */
import type { PresenceCounts, RealtimeErrorCode, RelayedEvent, ServerFrame } from '@eventcast/contracts';
import { serviceUrls } from './config.ts';

/** Frames and their types are the edge's own, from @eventcast/contracts (realtime.ts): never a copy. */
export type { ChannelEventType, ClientFrame } from '@eventcast/contracts';

/** Viewer and chatter counts of a channel (`PresenceCounts` of @eventcast/contracts). */
export type Presence = PresenceCounts;

/** A domain event relayed to a channel's subscribers (`RelayedEvent` of @eventcast/contracts). */
export type ChannelEvent = RelayedEvent;

/** A frame of the edge (`ServerFrame` of @eventcast/contracts). */
type ServerMessage = ServerFrame;

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting';

/** Signed-in state of the connection (docs/chat.md "Authenticate"). */
export type AuthState = 'guest' | 'authenticating' | 'authenticated' | 'invalid';

export interface ChannelHandlers {
	onEvent: (event: ChannelEvent) => void;
	/** Called when a (re)subscription is confirmed after a reconnect: re-read state, events may have been missed. */
	onResync?: () => void;
	/**
	 * Called each time the subscription is confirmed (first subscribe and after every reconnect), and at once for a
	 * handler added to a subscription that is already confirmed. From then on events flow: read history after this.
	 * `position`: the global position of the last event the edge relayed before the subscription (events after it
	 * arrive here; a history read must reflect at least this position, see the history's `position`).
	 */
	onSubscribed?: (position?: string) => void;
	/** Viewer/chatter counts (on subscribe and every few seconds while they change). */
	onPresence?: (p: Presence) => void;
}

/** Handlers of the directory feed: events of every channel, with the channel's username. */
export interface DirectoryHandlers {
	onEvent: (channel: string, event: ChannelEvent) => void;
	/** Called after a reconnect: events may have been missed, refetch. */
	onResync?: () => void;
}

export interface ChatAck {
	messageId: string;
	visibleAt: string;
}

/** Why a chat send failed: an `error` frame's code (docs/chat.md), or `not_connected` / `timeout` from this client. */
export type ChatSendErrorCode = RealtimeErrorCode | 'not_connected' | 'timeout';

/** A refused chat send: `code` from docs/chat.md (or `not_connected` / `timeout` from this client). */
export class ChatSendError extends Error {
	constructor(
		readonly code: ChatSendErrorCode,
		message: string,
		readonly retryAfterMs: number | null = null,
	) {
		super(message);
		this.name = 'ChatSendError';
	}
}

const ACK_TIMEOUT_MS = 10_000;

/**
 * A fresh random nonce per message (a UUID): the command side appends a message at most once per (sender, nonce) for
 * 24 h, so a nonce must never be reused, also not after a page reload (a counter would be). `crypto.randomUUID` exists
 * only in secure contexts (HTTPS, localhost); on plain HTTP a v4 UUID is made from `crypto.getRandomValues`.
 */
function makeNonce(): string {
	if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
	const b = crypto.getRandomValues(new Uint8Array(16));
	b[6] = (b[6]! & 0x0f) | 0x40;
	b[8] = (b[8]! & 0x3f) | 0x80;
	const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const PING_INTERVAL_MS = 20_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const IDLE_CLOSE_MS = 5_000;
/** `WebSocket.OPEN` (the readyState of an open socket, the same number in every implementation). */
const OPEN = 1;

/**
 * Seams of {@link RealtimeClient} for tests and non-browser hosts; every field is optional and defaults to the
 * browser's behaviour.
 */
export interface RealtimeClientOptions {
	/** WebSocket constructor (default: the global `WebSocket`; none: the client never connects). */
	WebSocket?: new (url: string) => WebSocket;
	/** Uniform random number in [0, 1) for the reconnect jitter (default `Math.random`). */
	random?: () => number;
	/** Reconnect backoff: first delay and cap in ms (default 500 → 15 000; delay = exp/2 + random·exp/2). */
	backoffMinMs?: number;
	backoffMaxMs?: number;
	/** Keep-alive ping interval in ms (default 20 000). */
	pingIntervalMs?: number;
	/** Linger after the last subscription before closing the socket, in ms (default 5 000). */
	idleCloseMs?: number;
	/** How long a chat send waits for its ack before rejecting with `timeout`, in ms (default 10 000). */
	ackTimeoutMs?: number;
}

/**
 * Backoff before reconnect attempt `attempt` (0-based), in ms: exponential from `minMs`, capped at `maxMs`, with the
 * upper half jittered by `random` ∈ [0, 1) ("equal jitter"): `exp/2 + random·exp/2` where `exp = min(max, min·2^attempt)`.
 */
export function reconnectDelayMs(attempt: number, random: number, minMs = BACKOFF_MIN_MS, maxMs = BACKOFF_MAX_MS): number {
	const exp = Math.min(maxMs, minMs * 2 ** attempt);
	return exp / 2 + random * (exp / 2);
}

/**
 * The page's connection to the realtime edge: channel subscriptions (with history/live sync points), the directory
 * feed, presence, sign-in and chat sends with acks. See the module comment for the reconnect rules.
 */
export class RealtimeClient {
	private ws: WebSocket | null = null;
	private readonly subs = new Map<string, Set<ChannelHandlers>>();
	private readonly stateListeners = new Set<(s: ConnectionState) => void>();
	private state: ConnectionState = 'idle';
	private attempt = 0;
	private everOpened = false;
	private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
	private pingTimer: ReturnType<typeof setInterval> | null = null;
	private idleTimer: ReturnType<typeof setTimeout> | null = null;
	private readonly seenEventIds: string[] = [];
	/** Channels whose subscription the server confirmed on the current socket. */
	private readonly confirmed = new Set<string>();
	/** Per confirmed channel, the `position` of its `subscribed` frame. */
	private readonly confirmedAt = new Map<string, string>();
	private readonly lastPresence = new Map<string, Presence>();
	private token: string | null = null;
	private auth: AuthState = 'guest';
	private authUser: { id: string; username: string } | null = null;
	private readonly authListeners = new Set<(s: AuthState, user: { id: string; username: string } | null) => void>();
	private readonly pending = new Map<
		string,
		{
			resolve: (a: ChatAck) => void;
			reject: (e: ChatSendError) => void;
			timer: ReturnType<typeof setTimeout>;
			/** The frame, resent as is (same nonce) after a reconnect until acked or timed out. */
			frame: { type: 'chat.send'; channel: string; text: string; nonce: string };
			/** The socket it was last sent on. */
			sentOn: WebSocket | null;
		}
	>();

	private readonly WS: (new (url: string) => WebSocket) | undefined;
	private readonly random: () => number;
	private readonly backoffMinMs: number;
	private readonly backoffMaxMs: number;
	private readonly pingIntervalMs: number;
	private readonly idleCloseMs: number;
	private readonly ackTimeoutMs: number;

	/** `url`: the edge's `ws(s)://…/ws` URL, asked again before every (re)connect. */
	constructor(
		private readonly url: () => string,
		options: RealtimeClientOptions = {},
	) {
		this.WS = options.WebSocket ?? (typeof WebSocket === 'undefined' ? undefined : WebSocket);
		this.random = options.random ?? Math.random;
		this.backoffMinMs = options.backoffMinMs ?? BACKOFF_MIN_MS;
		this.backoffMaxMs = options.backoffMaxMs ?? BACKOFF_MAX_MS;
		this.pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
		this.idleCloseMs = options.idleCloseMs ?? IDLE_CLOSE_MS;
		this.ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
	}

	/**
	 * Sign the connection in (or out). The token goes in an `auth` frame (not in the URL, so it stays out of access logs)
	 * right after each (re)connect; signing out needs a fresh connection, so the socket is recycled.
	 */
	setToken(token: string | null) {
		if (token === this.token) return;
		const hadToken = this.token !== null;
		this.token = token;
		this.authUser = null;
		if (token) {
			this.setAuth('authenticating');
			this.send({ type: 'auth', token });
		} else {
			this.setAuth('guest');
			if (hadToken && this.ws) this.recycle();
		}
	}

	onAuthChange(listener: (s: AuthState, user: { id: string; username: string } | null) => void): () => void {
		this.authListeners.add(listener);
		listener(this.auth, this.authUser);
		return () => this.authListeners.delete(listener);
	}

	get authState(): AuthState {
		return this.auth;
	}

	private setAuth(s: AuthState) {
		this.auth = s;
		for (const l of this.authListeners) l(s, this.authUser);
	}

	/** Send a chat message to a channel this page is subscribed to; resolves on `chat.ack`, rejects with ChatSendError. */
	sendChat(channel: string, text: string): Promise<ChatAck> {
		const ws = this.ws;
		if (!ws || ws.readyState !== OPEN) {
			return Promise.reject(new ChatSendError('not_connected', 'Not connected to chat.'));
		}
		const nonce = makeNonce();
		const frame = { type: 'chat.send' as const, channel: channel.toLowerCase(), text, nonce };
		return new Promise<ChatAck>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(nonce);
				reject(new ChatSendError('timeout', 'The chat server did not answer.'));
			}, this.ackTimeoutMs);
			this.pending.set(nonce, { resolve, reject, timer, frame, sentOn: ws });
			ws.send(JSON.stringify(frame));
		});
	}

	/**
	 * After a reconnect, resends the unacknowledged sends of `channel` (or of every confirmed channel) with their
	 * nonce, once the new socket is subscribed (and signed in): the command side answers a resend of a message it
	 * already stored with the original ack instead of storing it twice.
	 */
	private resendPending(channel?: string) {
		const ws = this.ws;
		if (!ws || ws.readyState !== OPEN || (this.token && this.auth !== 'authenticated')) return;
		for (const p of this.pending.values()) {
			if (p.sentOn === ws || !this.confirmed.has(p.frame.channel) || (channel && p.frame.channel !== channel)) continue;
			p.sentOn = ws;
			ws.send(JSON.stringify(p.frame));
		}
	}

	/** Close the current socket and connect again at once (keeps the subscriptions). */
	private recycle() {
		const ws = this.ws;
		this.cleanupSocket();
		ws?.close(1000, 'reconnect');
		if (this.active()) this.connect();
		else this.setState('idle');
	}

	/** Whether anything needs the connection: a channel subscription or the directory feed. */
	private active(): boolean {
		return this.subs.size > 0 || this.directorySubs.size > 0;
	}

	private readonly directorySubs = new Set<DirectoryHandlers>();
	private directoryResync = false;

	/**
	 * Follow go-live, offline and title changes of every channel (the edge's directory feed). Unlike
	 * {@link subscribe}, this does not count as watching any channel. Returns the unsubscribe function.
	 */
	subscribeDirectory(handlers: DirectoryHandlers): () => void {
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = null;
		if (this.directorySubs.size === 0) this.send({ type: 'subscribe_directory' });
		this.directorySubs.add(handlers);
		this.ensureConnected();
		return () => {
			if (!this.directorySubs.delete(handlers)) return;
			if (this.directorySubs.size === 0) this.send({ type: 'unsubscribe_directory' });
			if (!this.active() && !this.idleTimer) {
				this.idleTimer = setTimeout(() => {
					this.idleTimer = null;
					if (!this.active()) this.close();
				}, this.idleCloseMs);
			}
		};
	}

	/** Subscribe to a channel's events; returns the unsubscribe function. */
	subscribe(channel: string, handlers: ChannelHandlers): () => void {
		const name = channel.toLowerCase();
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = null;
		let set = this.subs.get(name);
		if (!set) {
			set = new Set();
			this.subs.set(name, set);
			this.send({ type: 'subscribe', channel: name });
		}
		set.add(handlers);
		this.ensureConnected();
		if (this.confirmed.has(name)) {
			queueMicrotask(() => {
				if (this.subs.get(name)?.has(handlers) && this.confirmed.has(name)) {
					handlers.onSubscribed?.(this.confirmedAt.get(name));
					const p = this.lastPresence.get(name);
					if (p) handlers.onPresence?.(p);
				}
			});
		}

		return () => {
			const current = this.subs.get(name);
			if (!current) return;
			current.delete(handlers);
			if (current.size === 0) {
				this.subs.delete(name);
				this.confirmed.delete(name);
				this.confirmedAt.delete(name);
				this.lastPresence.delete(name);
				this.send({ type: 'unsubscribe', channel: name });
			}
			// Linger a moment so a page navigation reuses the connection instead of reconnecting.
			if (!this.active() && !this.idleTimer) {
				this.idleTimer = setTimeout(() => {
					this.idleTimer = null;
					if (!this.active()) this.close();
				}, this.idleCloseMs);
			}
		};
	}

	onStateChange(listener: (s: ConnectionState) => void): () => void {
		this.stateListeners.add(listener);
		listener(this.state);
		return () => this.stateListeners.delete(listener);
	}

	get connectionState(): ConnectionState {
		return this.state;
	}

	private setState(s: ConnectionState) {
		if (this.state === s) return;
		this.state = s;
		for (const l of this.stateListeners) l(s);
	}

	private ensureConnected() {
		if (this.ws || this.reconnectTimer || !this.WS) return;
		this.connect();
	}

	private connect() {
		this.reconnectTimer = null;
		this.setState(this.everOpened ? 'reconnecting' : 'connecting');
		let ws: WebSocket;
		try {
			if (!this.WS) throw new Error('no WebSocket implementation');
			ws = new this.WS(this.url());
		} catch {
			this.scheduleReconnect();
			return;
		}
		this.ws = ws;

		ws.onopen = () => {
			this.attempt = 0;
			const resync = this.everOpened;
			this.everOpened = true;
			this.setState('open');
			if (this.token) {
				this.setAuth('authenticating');
				this.send({ type: 'auth', token: this.token });
			}
			for (const channel of this.subs.keys()) this.send({ type: 'subscribe', channel });
			if (this.directorySubs.size > 0) this.send({ type: 'subscribe_directory' });
			this.directoryResync = resync;
			this.resyncPending = resync ? new Set(this.subs.keys()) : new Set();
			this.pingTimer = setInterval(() => this.send({ type: 'ping' }), this.pingIntervalMs);
		};
		ws.onmessage = (ev) => {
			if (typeof ev.data === 'string') this.handle(ev.data);
		};
		const lost = () => {
			if (this.ws !== ws) return;
			this.cleanupSocket();
			if (this.active()) this.scheduleReconnect();
			else this.setState('idle');
		};
		ws.onclose = lost;
		ws.onerror = () => {
			// Browsers follow an error with close; Node's WebSocket (undici) fires no close after a refused handshake
			// (HTTP 503 from a restarting edge) and stays CONNECTING: reconnect from here, a later close is ignored.
			lost();
			try {
				ws.close();
			} catch {
				// Already closing.
			}
		};
	}

	private resyncPending = new Set<string>();

	private handle(raw: string) {
		let msg: ServerMessage;
		try {
			msg = JSON.parse(raw) as ServerMessage;
		} catch {
			return;
		}
		switch (msg.type) {
			case 'subscribed': {
				const name = msg.channel.toLowerCase();
				this.confirmed.add(name);
				if (msg.position !== undefined) this.confirmedAt.set(name, msg.position);
				const handlers = [...(this.subs.get(name) ?? [])];
				for (const h of handlers) h.onSubscribed?.(msg.position);
				if (this.resyncPending.delete(name)) {
					for (const h of handlers) h.onResync?.();
				}
				this.resendPending(name);
				break;
			}
			case 'directory_subscribed':
				if (this.directoryResync) {
					this.directoryResync = false;
					for (const h of [...this.directorySubs]) h.onResync?.();
				}
				break;
			case 'presence': {
				const name = msg.channel.toLowerCase();
				const p = { viewers: Number(msg.viewers) || 0, chatters: Number(msg.chatters) || 0 };
				this.lastPresence.set(name, p);
				for (const h of this.subs.get(name) ?? []) h.onPresence?.(p);
				break;
			}
			case 'authenticated':
				this.authUser = msg.user ?? null;
				this.setAuth('authenticated');
				this.resendPending();
				break;
			case 'chat.ack': {
				const p = this.pending.get(msg.nonce);
				if (p) {
					this.pending.delete(msg.nonce);
					clearTimeout(p.timer);
					p.resolve({ messageId: msg.messageId, visibleAt: msg.visibleAt });
				}
				break;
			}
			case 'event': {
				// A relay may deliver an event twice (e.g. around reconnects); apply each id once.
				if (msg.event?.id) {
					if (this.seenEventIds.includes(msg.event.id)) return;
					this.seenEventIds.push(msg.event.id);
					if (this.seenEventIds.length > 200) this.seenEventIds.shift();
				}
				for (const h of this.subs.get(msg.channel.toLowerCase()) ?? []) {
					try {
						h.onEvent(msg.event);
					} catch (err) {
						console.error('[realtime] handler failed', err);
					}
				}
				for (const h of [...this.directorySubs]) {
					try {
						h.onEvent(msg.channel.toLowerCase(), msg.event);
					} catch (err) {
						console.error('[realtime] directory handler failed', err);
					}
				}
				break;
			}
			case 'error': {
				const p = msg.nonce ? this.pending.get(msg.nonce) : undefined;
				if (p && msg.nonce) {
					this.pending.delete(msg.nonce);
					clearTimeout(p.timer);
					p.reject(new ChatSendError(msg.code, msg.message ?? msg.code, typeof msg.retryAfterMs === 'number' ? msg.retryAfterMs : null));
				} else if (msg.code === 'invalid_token') {
					this.setAuth('invalid');
				} else {
					console.warn(`[realtime] ${msg.code}: ${msg.message ?? ''}`);
				}
				break;
			}
			default:
				break;
		}
	}

	private send(msg: unknown) {
		if (this.ws && this.ws.readyState === OPEN) this.ws.send(JSON.stringify(msg));
		// Otherwise onopen sends the subscriptions.
	}

	private scheduleReconnect() {
		this.setState('reconnecting');
		const delay = reconnectDelayMs(this.attempt, this.random(), this.backoffMinMs, this.backoffMaxMs);
		this.attempt++;
		this.reconnectTimer = setTimeout(() => this.connect(), delay);
	}

	private cleanupSocket() {
		if (this.pingTimer) clearInterval(this.pingTimer);
		this.pingTimer = null;
		this.confirmed.clear();
		this.confirmedAt.clear();
		// Unacknowledged sends are kept and resent with the same nonce after the reconnect (resendPending), until
		// their ack timeout; close() rejects them.
		if (this.token && this.auth === 'authenticated') this.setAuth('authenticating');
		if (this.ws) {
			this.ws.onopen = this.ws.onmessage = this.ws.onclose = this.ws.onerror = null;
		}
		this.ws = null;
	}

	/** Close the connection and stop reconnecting (subscriptions are kept for a later connect). */
	close() {
		if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
		this.reconnectTimer = null;
		const ws = this.ws;
		this.cleanupSocket();
		for (const [nonce, p] of this.pending) {
			clearTimeout(p.timer);
			p.reject(new ChatSendError('not_connected', 'The connection to chat was closed.'));
			this.pending.delete(nonce);
		}
		this.attempt = 0;
		this.everOpened = false;
		ws?.close(1000, 'bye');
		this.setState('idle');
	}
}

let shared: RealtimeClient | null = null;

const SESSION_ID_KEY = 'eventcast.sid';

/**
 * `url` with `sid=<this browser's anonymous session id>` (random, kept in localStorage): the edge turns it into a
 * keyed hash so a guest counts once per broadcast in the analytics' unique viewers (docs/contracts.md "Analytics").
 */
function withSessionId(url: string): string {
	try {
		let sid = localStorage.getItem(SESSION_ID_KEY);
		if (!sid || !/^[A-Za-z0-9_-]{16,64}$/.test(sid)) {
			sid = crypto.randomUUID().replace(/-/g, '');
			localStorage.setItem(SESSION_ID_KEY, sid);
		}
		const u = new URL(url);
		u.searchParams.set('sid', sid);
		return u.toString();
	} catch {
		return url;
	}
}

/** The page-wide realtime client. */
export function realtime(): RealtimeClient {
	shared ??= new RealtimeClient(() => withSessionId(serviceUrls().realtime));
	return shared;
}
