/**
 * A realtime edge for the web's unit tests: a real WebSocket server (the `ws` package) on 127.0.0.1 speaking the
 * frames of docs/contracts.md "realtime WebSocket /ws" that the client uses — `subscribe` → `subscribed` (with the
 * channel's current `position`), `unsubscribe`, `auth` → `authenticated` / `error invalid_token`, `chat.send` →
 * `chat.ack`, `ping` → `pong` — and lets a test push `event` frames, drop connections and refuse handshakes.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ChannelEvent } from '#lib/realtime.ts';

/** A frame the edge received from a client. */
export interface ClientFrame {
	type: string;
	channel?: string;
	token?: string;
	text?: string;
	nonce?: string;
}

/** One accepted connection, with every frame it sent. */
export interface EdgeConnection {
	socket: WebSocket;
	frames: ClientFrame[];
	/** Channels this connection is subscribed to. */
	channels: Set<string>;
	/** When the handshake was accepted (`performance.now()`, ms). */
	openedAt: number;
}

/** The test edge: see the module comment. */
export class TestEdge {
	readonly connections: EdgeConnection[] = [];
	/** `performance.now()` of every handshake attempt, accepted or refused (ms). */
	readonly attempts: number[] = [];
	/** Handshakes still to refuse with HTTP 503 (the client sees a failed connect). */
	refuseNext = 0;
	/** Per channel, the position sent in `subscribed` (default "0"). */
	readonly positions = new Map<string, string>();
	/** When false, `chat.send` frames are recorded but not acked. */
	ack = true;
	private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

	private constructor(private readonly server: WebSocketServer) {
		server.on('connection', (socket) => {
			const conn: EdgeConnection = { socket, frames: [], channels: new Set(), openedAt: performance.now() };
			this.connections.push(conn);
			socket.send(JSON.stringify({ type: 'welcome', connectionId: `c${this.connections.length}` }));
			socket.on('message', (data) => {
				const frame = JSON.parse(String(data)) as ClientFrame;
				conn.frames.push(frame);
				this.answer(conn, frame);
				this.check();
			});
			socket.on('close', () => this.check());
			this.check();
		});
	}

	/** Starts an edge on a free port of 127.0.0.1. */
	static async start(): Promise<TestEdge> {
		let edge: TestEdge | null = null;
		const server = new WebSocketServer({
			host: '127.0.0.1',
			port: 0,
			path: '/ws',
			verifyClient: (_info, done) => {
				edge?.attempts.push(performance.now());
				if (edge && edge.refuseNext > 0) {
					edge.refuseNext--;
					done(false, 503, 'refused by the test');
				} else done(true);
				edge?.check();
			},
		});
		edge = new TestEdge(server);
		await once(server, 'listening');
		return edge;
	}

	/** `ws://127.0.0.1:<port>/ws`. */
	get url(): string {
		return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
	}

	/** The newest connection (throws when there is none). */
	get latest(): EdgeConnection {
		const c = this.connections.at(-1);
		if (!c) throw new Error('no connection yet');
		return c;
	}

	/** Connections still open. */
	get open(): EdgeConnection[] {
		return this.connections.filter((c) => c.socket.readyState === c.socket.OPEN);
	}

	private answer(conn: EdgeConnection, f: ClientFrame) {
		const send = (msg: unknown) => conn.socket.send(JSON.stringify(msg));
		switch (f.type) {
			case 'subscribe':
				conn.channels.add(f.channel ?? '');
				send({ type: 'subscribed', channel: f.channel, position: this.positions.get(f.channel ?? '') ?? '0' });
				return;
			case 'unsubscribe':
				conn.channels.delete(f.channel ?? '');
				send({ type: 'unsubscribed', channel: f.channel });
				return;
			case 'auth':
				if (f.token === 'good') send({ type: 'authenticated', user: { id: 'u-me', username: 'me' } });
				else send({ type: 'error', code: 'invalid_token' });
				return;
			case 'chat.send':
				if (this.ack) send({ type: 'chat.ack', nonce: f.nonce, messageId: `m-${f.nonce}`, visibleAt: new Date().toISOString() });
				return;
			case 'ping':
				send({ type: 'pong' });
				return;
		}
	}

	/** Sends `event` to every open connection subscribed to `channel`. */
	publish(channel: string, event: ChannelEvent): void {
		for (const c of this.open) if (c.channels.has(channel)) c.socket.send(JSON.stringify({ type: 'event', channel, event }));
	}

	/** Sends a raw frame to one connection. */
	sendTo(conn: EdgeConnection, frame: unknown): void {
		conn.socket.send(JSON.stringify(frame));
	}

	/** Drops every open connection without a close handshake (as a crashed edge or a lost network would). */
	dropAll(): void {
		for (const c of this.open) c.socket.terminate();
	}

	/** Resolves once `check()` holds (re-checked on every frame, connection and close, and every 10 ms). */
	async until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
		/** A check that throws (e.g. `latest` before any connection) does not hold yet. */
		const test = () => {
			try {
				return check();
			} catch {
				return false;
			}
		};
		if (test()) return;
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
			const poll = setInterval(() => this.check(), 10);
			this.waiters.push({
				test,
				resolve: () => {
					clearTimeout(timer);
					clearInterval(poll);
					resolve();
				},
			});
		});
	}

	private check() {
		for (const w of [...this.waiters]) {
			if (w.test()) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				w.resolve();
			}
		}
	}

	/** Closes every connection and the server. */
	async stop(): Promise<void> {
		for (const c of this.connections) c.socket.terminate();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}
}

let nextId = 0;

/** A relayed channel event of `type` at global position `position` (`data` merged in). */
export function channelEvent(type: string, position: number, data: Record<string, unknown> = {}): ChannelEvent {
	return { id: `e-${++nextId}`, type, data, globalPosition: String(position), occurredAt: new Date(Date.UTC(2026, 11, 7, 12, 0, position)).toISOString() };
}

/** A `ChatMessageSent` of message `messageId` by `senderId` at `position`. */
export function chatMessage(messageId: string, position: number, senderId = 'u-alice', text = `text of ${messageId}`): ChannelEvent {
	return channelEvent('ChatMessageSent', position, {
		messageId,
		senderId,
		senderName: senderId.replace(/^u-/, ''),
		senderRole: 'viewer',
		text,
		sentAt: new Date(Date.UTC(2026, 11, 7, 12, 0, position)).toISOString(),
	});
}
