/**
 * Client for the realtime WebSocket edge (docs/contracts.md, "realtime WebSocket /ws").
 *
 * - one shared connection per page, opened lazily on the first subscription and closed when the last one goes;
 * - reconnects with exponential backoff and jitter (0.5 s → 15 s), resubscribes every channel on reconnect;
 * - pings every 20 s so idle proxies keep the connection open;
 * - after a reconnect each subscriber's `onResync` is called: events may have been missed while offline,
 *   so the page should re-read the current state over HTTP.
 */
import { serviceUrls } from './config.ts';

export type ChannelEventType = 'BroadcastStarted' | 'BroadcastEnded' | 'ChannelInfoUpdated' | (string & {});

export interface ChannelEvent {
	id: string;
	type: ChannelEventType;
	data: Record<string, unknown>;
	globalPosition: string;
	occurredAt: string;
}

type ServerMessage =
	| { type: 'welcome'; connectionId: string }
	| { type: 'subscribed'; channel: string }
	| { type: 'unsubscribed'; channel: string }
	| { type: 'event'; channel: string; event: ChannelEvent }
	| { type: 'pong' }
	| { type: 'error'; code: string; message: string };

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting';

export interface ChannelHandlers {
	onEvent: (event: ChannelEvent) => void;
	/** Called when a (re)subscription is confirmed after a reconnect: re-read state, events may have been missed. */
	onResync?: () => void;
}

const PING_INTERVAL_MS = 20_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const IDLE_CLOSE_MS = 5_000;

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

	constructor(private readonly url: () => string) {}

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

		return () => {
			const current = this.subs.get(name);
			if (!current) return;
			current.delete(handlers);
			if (current.size === 0) {
				this.subs.delete(name);
				this.send({ type: 'unsubscribe', channel: name });
			}
			// Linger a moment so a page navigation reuses the connection instead of reconnecting.
			if (this.subs.size === 0 && !this.idleTimer) {
				this.idleTimer = setTimeout(() => {
					this.idleTimer = null;
					if (this.subs.size === 0) this.close();
				}, IDLE_CLOSE_MS);
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
		if (this.ws || this.reconnectTimer || typeof WebSocket === 'undefined') return;
		this.connect();
	}

	private connect() {
		this.reconnectTimer = null;
		this.setState(this.everOpened ? 'reconnecting' : 'connecting');
		let ws: WebSocket;
		try {
			ws = new WebSocket(this.url());
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
			for (const channel of this.subs.keys()) this.send({ type: 'subscribe', channel });
			this.resyncPending = resync ? new Set(this.subs.keys()) : new Set();
			this.pingTimer = setInterval(() => this.send({ type: 'ping' }), PING_INTERVAL_MS);
		};
		ws.onmessage = (ev) => {
			if (typeof ev.data === 'string') this.handle(ev.data);
		};
		ws.onclose = () => {
			if (this.ws !== ws) return;
			this.cleanupSocket();
			if (this.subs.size > 0) this.scheduleReconnect();
			else this.setState('idle');
		};
		ws.onerror = () => {
			// onclose follows and schedules the reconnect.
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
				if (this.resyncPending.delete(name)) {
					for (const h of this.subs.get(name) ?? []) h.onResync?.();
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
				break;
			}
			case 'error':
				console.warn(`[realtime] ${msg.code}: ${msg.message}`);
				break;
			default:
				break;
		}
	}

	private send(msg: unknown) {
		if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
		// Otherwise onopen sends the subscriptions.
	}

	private scheduleReconnect() {
		this.setState('reconnecting');
		const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
		const delay = exp / 2 + Math.random() * (exp / 2);
		this.attempt++;
		this.reconnectTimer = setTimeout(() => this.connect(), delay);
	}

	private cleanupSocket() {
		if (this.pingTimer) clearInterval(this.pingTimer);
		this.pingTimer = null;
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
		this.attempt = 0;
		this.everOpened = false;
		ws?.close(1000, 'bye');
		this.setState('idle');
	}
}

let shared: RealtimeClient | null = null;

/** The page-wide realtime client. */
export function realtime(): RealtimeClient {
	shared ??= new RealtimeClient(() => serviceUrls().realtime);
	return shared;
}
