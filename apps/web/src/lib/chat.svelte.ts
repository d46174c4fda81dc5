/**
 * One channel's chat room as seen by this page (docs/chat.md):
 * subscribe first and buffer relayed events, read the history (newest first), show it oldest → newest, then apply the
 * buffered events in global-position order (messages de-duplicated by id, moderation events are idempotent).
 * The same sequence runs again after every reconnect, because the relay does not replay missed events.
 */
import {
	ApiError,
	DEFAULT_CHAT_SETTINGS,
	banUser,
	deleteChatMessage,
	emoteUrl,
	follow,
	getChatHistory,
	getChatRole,
	getChatSettings,
	getFollowerCount,
	listEmotes,
	timeoutUser,
	unfollow,
	type ChatMessageView,
	type ChatRole,
	type ChatRoleView,
	type ChatSettings,
} from './api.ts';
import { durationWords, settingsNotices } from './chat-text.ts';
import { ChatSendError, realtime, type ChannelEvent, type RealtimeClient } from './realtime.ts';

export { chatErrorText, countdown, durationWords, segments, type Segment } from './chat-text.ts';

export const MAX_LINES = 300;

export interface MessageLine {
	kind: 'message';
	/** Message id (also the key). */
	id: string;
	senderId: string;
	senderName: string;
	senderRole: ChatRole;
	/** The bot's name when the channel's bot sent it (an API token with `chat:send`; the sender is then the owner). */
	bot: string | null;
	text: string;
	sentAt: string;
	visibleAt: string;
	globalPosition: string | null;
	/** Removed by a moderator: hidden for viewers, greyed out for moderators. */
	removed: null | 'deleted' | 'timeout' | 'ban';
	/** The sender's own message held back by the message delay (shown only to the sender until it is visible). */
	pending: boolean;
}

export interface NoticeLine {
	kind: 'notice';
	id: string;
	text: string;
	/** Shown to the owner and moderators only. */
	modOnly: boolean;
	tone: 'info' | 'warn';
}

export type ChatLine = MessageLine | NoticeLine;

/** The bot's name of a relayed `ChatMessageSent` (`data.bot: { tokenId, name }`), or null for people. */
function botName(bot: unknown): string | null {
	if (!bot || typeof bot !== 'object') return null;
	const name = (bot as { name?: unknown }).name;
	return typeof name === 'string' && name ? name : null;
}

function pos(p: string | null | undefined): bigint | null {
	if (p === null || p === undefined || p === '') return null;
	try {
		return BigInt(p);
	} catch {
		return null;
	}
}

/** True when a history read at `read` (its `position`) does not yet reflect the subscription point `subscribedAt`. */
function behind(read: string | undefined, subscribedAt: string | undefined): boolean {
	const r = pos(read);
	const s = pos(subscribedAt);
	return r !== null && s !== null && r < s;
}

/** True when the line's position is known and before `p` (or unknown: then it was received before the event). */
function before(line: MessageLine, p: bigint | null): boolean {
	const lp = pos(line.globalPosition);
	if (lp === null || p === null) return true;
	return lp < p;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

let noticeCounter = 0;
function notice(text: string, modOnly: boolean, tone: NoticeLine['tone'] = 'info'): NoticeLine {
	return { kind: 'notice', id: `notice-${++noticeCounter}`, text, modOnly, tone };
}

export interface Me {
	id: string;
	username: string;
}

/**
 * What a {@link ChatRoom} reads its message stream from: the realtime client (subscription, chat sends) and the
 * query side's chat history. Defaults: the page-wide client and `getChatHistory` of `$lib/api`; tests pass their own
 * (a client on a test WebSocket server, a history read of their choosing).
 */
export interface ChatRoomDeps {
	realtime: () => Pick<RealtimeClient, 'subscribe' | 'sendChat'>;
	getChatHistory: typeof getChatHistory;
}

/**
 * One channel's chat room for a page: lines (history merged with live events, de-duplicated by message id and applied
 * in global-position order), settings, emotes, moderators, the signed-in user's role, and the actions (send, delete,
 * timeout, ban, follow). Reactive through Svelte runes (`$state` fields).
 */
export class ChatRoom {
	lines = $state<ChatLine[]>([]);
	settings = $state<ChatSettings>({ ...DEFAULT_CHAT_SETTINGS });
	moderators = $state<{ id: string; username: string }[]>([]);
	/** code → absolute image URL (or data: URL for emotes added while the page is open). */
	emotes = $state(new Map<string, string>());
	/** The signed-in user's standing in this room (null for guests or until loaded). */
	role = $state<ChatRoleView | null>(null);
	followers = $state<number | null>(null);
	status = $state<'joining' | 'ready' | 'error'>('joining');
	historyError = $state<string | null>(null);
	nextBefore = $state<string | null>(null);
	loadingOlder = $state(false);
	/** Incremented on every appended live message (the panel scrolls or counts unseen messages). */
	appended = $state(0);

	private buffering = true;
	private buffer: ChannelEvent[] = [];
	private syncGen = 0;
	private disposed = false;
	private retryTimer: ReturnType<typeof setTimeout> | null = null;
	private readonly listeners = new Set<(line: MessageLine) => void>();
	private readonly deps: ChatRoomDeps;

	/**
	 * `channel`: the channel's username; `me`/`token`: the signed-in user and their session token (null for guests),
	 * read when needed; `deps`: see {@link ChatRoomDeps}.
	 */
	constructor(
		readonly channel: string,
		private readonly me: () => Me | null,
		private readonly token: () => string | null,
		deps: Partial<ChatRoomDeps> = {},
	) {
		this.deps = { realtime: deps.realtime ?? realtime, getChatHistory: deps.getChatHistory ?? getChatHistory };
	}

	get myRole(): ChatRole {
		return this.role?.role ?? (this.me()?.username === this.channel ? 'owner' : 'viewer');
	}
	get isModerator(): boolean {
		return this.myRole === 'owner' || this.myRole === 'moderator';
	}

	/** Called for every live message appended (not history). */
	onMessage(listener: (line: MessageLine) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Starts everything (the message stream and {@link loadMeta}): returns the cleanup. */
	start(): () => void {
		const stop = this.listen();
		void this.loadMeta();
		return stop;
	}

	/**
	 * Starts only the message stream: subscribes to the channel and runs {@link sync} on every (re)subscription.
	 * Returns the cleanup (unsubscribes, cancels a pending history retry).
	 */
	listen(): () => void {
		const unsubscribe = this.deps.realtime().subscribe(this.channel, {
			onEvent: (e) => this.receive(e),
			onSubscribed: (position) => void this.sync(position),
		});
		return () => {
			this.disposed = true;
			this.syncGen++;
			if (this.retryTimer) clearTimeout(this.retryTimer);
			unsubscribe();
		};
	}

	/** Settings, emotes, the viewer's role and the follower count (independent of the message stream). */
	async loadMeta() {
		const name = this.channel;
		await Promise.all([
			getChatSettings(name)
				.then((v) => {
					this.settings = { ...DEFAULT_CHAT_SETTINGS, ...v.settings };
					this.moderators = v.moderators ?? [];
				})
				.catch(() => {}),
			listEmotes(name)
				.then((list) => (this.emotes = new Map(list.map((e) => [e.code, emoteUrl(e.url)]))))
				.catch(() => {}),
			this.loadRole(),
			getFollowerCount(name)
				.then((n) => (this.followers = n))
				.catch(() => {}),
		]);
	}

	async loadRole() {
		const me = this.me();
		if (!me) {
			this.role = null;
			return;
		}
		try {
			this.role = await getChatRole(this.channel, me.username, this.token());
		} catch {
			// Keep the last known role; the owner is recognised by name anyway.
		}
	}

	private receive(e: ChannelEvent) {
		if (!e.type.startsWith('Chat') && !e.type.startsWith('ChannelEmote') && !e.type.startsWith('ChannelFollow') && e.type !== 'ChannelUnfollowed') return;
		if (this.buffering) {
			this.buffer.push(e);
			return;
		}
		this.apply(e, true);
	}

	/**
	 * Buffer → history → merge. Runs on every (re)subscription. `subscribedAt`: the `subscribed` frame's position; the
	 * events up to it were relayed before this page listened, so the history must reflect them: it is read again
	 * (every 250 ms, for up to 5 s) while the read model is behind that position.
	 */
	async sync(subscribedAt?: string) {
		const gen = ++this.syncGen;
		this.buffering = true;
		if (this.retryTimer) clearTimeout(this.retryTimer);
		let history: ChatMessageView[] | null = null;
		try {
			let res = await this.deps.getChatHistory(this.channel, { limit: 50 });
			for (let tries = 0; tries < 20 && behind(res.position, subscribedAt); tries++) {
				await new Promise((r) => setTimeout(r, 250));
				if (gen !== this.syncGen || this.disposed) return;
				res = await this.deps.getChatHistory(this.channel, { limit: 50 });
			}
			if (gen !== this.syncGen || this.disposed) return;
			history = res.messages ?? [];
			this.nextBefore = res.nextBefore ?? null;
			this.historyError = null;
		} catch (err) {
			if (gen !== this.syncGen || this.disposed) return;
			this.historyError = err instanceof ApiError ? err.message : "Couldn't load earlier messages.";
			// Try again later; meanwhile show live messages.
			this.retryTimer = setTimeout(() => void this.sync(subscribedAt), 5000);
		}

		if (history) {
			const lines = [...history].reverse().map(fromView);
			// Keep the own delayed messages that are not visible yet (not in the history by definition).
			const pending = this.lines.filter((l): l is MessageLine => l.kind === 'message' && l.pending && !lines.some((h) => h.id === l.id));
			this.lines = [...lines, ...pending];
		}
		const buffered = this.buffer.sort((a, b) => {
			const pa = pos(a.globalPosition) ?? 0n;
			const pb = pos(b.globalPosition) ?? 0n;
			return pa < pb ? -1 : pa > pb ? 1 : 0;
		});
		this.buffer = [];
		this.buffering = false;
		for (const e of buffered) this.apply(e, false);
		this.status = 'ready';
	}

	/** Older history above the first line. */
	async loadOlder() {
		if (!this.nextBefore || this.loadingOlder) return;
		this.loadingOlder = true;
		try {
			const res = await this.deps.getChatHistory(this.channel, { before: this.nextBefore, limit: 50 });
			const ids = new Set(this.lines.map((l) => l.id));
			const older = [...(res.messages ?? [])].reverse().map(fromView).filter((l) => !ids.has(l.id));
			this.lines = [...older, ...this.lines];
			this.nextBefore = res.nextBefore ?? null;
		} catch {
			// The button stays; the user may try again.
		} finally {
			this.loadingOlder = false;
		}
	}

	/** Drop the oldest lines beyond MAX_LINES (the panel calls this while it follows the bottom). */
	trim() {
		if (this.lines.length > MAX_LINES) {
			this.lines = this.lines.slice(this.lines.length - MAX_LINES);
			this.nextBefore = null;
		}
	}

	private append(line: ChatLine) {
		this.lines = [...this.lines, line];
	}

	/**
	 * Applies one relayed channel event to the room. `live`: received while listening (not replayed from the buffer
	 * after a history read): only live messages count in `appended`, reach {@link onMessage} listeners and settings
	 * changes add notices. A message whose id is already shown is not added again (a pending own message is replaced
	 * by the confirmed one); deletes, clears, timeouts and bans remove (or, for moderators, grey out) the lines they
	 * cover: clears, timeouts and bans only lines before the event's global position.
	 */
	apply(e: ChannelEvent, live: boolean) {
		const d = e.data;
		const p = pos(e.globalPosition);
		const me = this.me();
		const mod = this.isModerator;
		switch (e.type) {
			case 'ChatMessageSent': {
				const line: MessageLine = {
					kind: 'message',
					id: str(d.messageId) || e.id,
					senderId: str(d.senderId),
					senderName: str(d.senderName),
					senderRole: (str(d.senderRole) || 'viewer') as ChatRole,
					bot: botName(d.bot),
					text: str(d.text),
					sentAt: str(d.sentAt) || e.occurredAt,
					visibleAt: str(d.visibleAt) || e.occurredAt,
					globalPosition: e.globalPosition ?? null,
					removed: null,
					pending: false,
				};
				const i = this.lines.findIndex((l) => l.id === line.id);
				if (i >= 0) {
					const existing = this.lines[i] as MessageLine;
					if (existing.pending) this.lines[i] = { ...line, removed: existing.removed };
					return;
				}
				this.append(line);
				if (live) {
					this.appended++;
					for (const l of this.listeners) l(line);
				}
				return;
			}
			case 'ChatMessageDeleted': {
				const id = str(d.messageId);
				this.removeWhere((l) => l.id === id, 'deleted');
				return;
			}
			case 'ChatCleared': {
				this.lines = this.lines.filter((l) => l.kind === 'message' && (l.pending || !before(l, p)));
				this.append(notice('Chat was cleared by a moderator.', false));
				return;
			}
			case 'ChatUserTimedOut': {
				const userId = str(d.userId);
				this.removeWhere((l) => l.senderId === userId && before(l, p), 'timeout');
				const secs = Number(d.durationSeconds) || 0;
				if (me && userId === me.id) {
					this.role = { ...(this.role ?? defaultRole()), timedOutUntil: str(d.until) };
					this.append(notice(`You were timed out for ${durationWords(secs)}.`, false, 'warn'));
				} else if (mod) {
					this.append(notice(`${str(d.userName)} was timed out for ${durationWords(secs)} by ${str(d.moderatorName)}.`, true));
				}
				return;
			}
			case 'ChatUserBanned': {
				const userId = str(d.userId);
				this.removeWhere((l) => l.senderId === userId && before(l, p), 'ban');
				if (me && userId === me.id) {
					this.role = { ...(this.role ?? defaultRole()), banned: true };
					this.append(notice('You were banned from this chat.', false, 'warn'));
				} else if (mod) {
					this.append(notice(`${str(d.userName)} was banned by ${str(d.moderatorName)}.`, true));
				}
				return;
			}
			case 'ChatUserUnbanned': {
				const userId = str(d.userId);
				if (me && userId === me.id) {
					this.role = { ...(this.role ?? defaultRole()), banned: false, timedOutUntil: null };
					this.append(notice('You were unbanned: you can chat again.', false));
				} else if (mod) {
					this.append(notice(`${str(d.userName)} was unbanned by ${str(d.moderatorName)}.`, true));
				}
				return;
			}
			case 'ChatModeratorAdded':
			case 'ChatModeratorRemoved': {
				const added = e.type === 'ChatModeratorAdded';
				const userId = str(d.userId);
				const userName = str(d.userName);
				this.moderators = added
					? [...this.moderators.filter((m) => m.id !== userId), { id: userId, username: userName }]
					: this.moderators.filter((m) => m.id !== userId);
				if (me && userId === me.id && this.myRole !== 'owner') {
					this.role = { ...(this.role ?? defaultRole()), role: added ? 'moderator' : 'viewer' };
					this.append(notice(added ? 'You are now a moderator of this chat.' : 'You are no longer a moderator of this chat.', false));
				}
				return;
			}
			case 'ChatSettingsChanged': {
				const next = { ...DEFAULT_CHAT_SETTINGS, ...(d.settings as Partial<ChatSettings>) };
				if (live) for (const text of settingsNotices(this.settings, next)) this.append(notice(text, false));
				this.settings = next;
				return;
			}
			case 'ChannelEmoteAdded': {
				const code = str(d.code);
				const url = d.imageBase64 ? `data:${str(d.contentType) || 'image/png'};base64,${str(d.imageBase64)}` : emoteUrl(`/channels/${this.channel}/emotes/${code}`);
				const next = new Map(this.emotes);
				next.set(code, url);
				this.emotes = next;
				return;
			}
			case 'ChannelEmoteRemoved': {
				const next = new Map(this.emotes);
				next.delete(str(d.code));
				this.emotes = next;
				return;
			}
			case 'ChannelFollowed':
			case 'ChannelUnfollowed': {
				if (this.followers !== null) this.followers = Math.max(0, this.followers + (e.type === 'ChannelFollowed' ? 1 : -1));
				if (me && str(d.followerId) === me.id) this.role = { ...(this.role ?? defaultRole()), follows: e.type === 'ChannelFollowed' };
				return;
			}
			default:
				return;
		}
	}

	/** Viewers no longer see removed messages; moderators see them greyed out (Twitch-like). */
	private removeWhere(match: (l: MessageLine) => boolean, why: NonNullable<MessageLine['removed']>) {
		if (this.isModerator) {
			this.lines = this.lines.map((l) => (l.kind === 'message' && !l.removed && match(l) ? { ...l, removed: why } : l));
		} else {
			this.lines = this.lines.filter((l) => l.kind !== 'message' || !match(l));
		}
	}

	// ---- actions -------------------------------------------------------------------------

	/** Sends over the WebSocket; resolves with the ack or throws ChatSendError. */
	async send(text: string) {
		const ack = await this.deps.realtime().sendChat(this.channel, text);
		const me = this.me();
		const delayed = Date.parse(ack.visibleAt) - Date.now() > 400;
		if (delayed && me && !this.lines.some((l) => l.id === ack.messageId)) {
			// The edge holds the message until visibleAt: show it to the sender now, greyed out.
			this.append({
				kind: 'message',
				id: ack.messageId,
				senderId: me.id,
				senderName: me.username,
				senderRole: this.myRole,
				bot: null,
				text: text.trim(),
				sentAt: new Date().toISOString(),
				visibleAt: ack.visibleAt,
				globalPosition: null,
				removed: null,
				pending: true,
			});
			this.appended++;
		}
		return ack;
	}

	async deleteMessage(id: string) {
		const token = this.token();
		if (!token) throw new ChatSendError('unauthenticated', 'Log in first.');
		await deleteChatMessage(token, this.channel, id);
		this.removeWhere((l) => l.id === id, 'deleted');
	}

	async timeout(user: { id: string; name: string }, seconds: number) {
		const token = this.token();
		if (!token) throw new ChatSendError('unauthenticated', 'Log in first.');
		await timeoutUser(token, this.channel, user.name, seconds);
		this.removeWhere((l) => l.senderId === user.id && !l.pending, 'timeout');
	}

	async ban(user: { id: string; name: string }) {
		const token = this.token();
		if (!token) throw new ChatSendError('unauthenticated', 'Log in first.');
		await banUser(token, this.channel, user.name);
		this.removeWhere((l) => l.senderId === user.id && !l.pending, 'ban');
	}

	async setFollowing(on: boolean) {
		const token = this.token();
		if (!token) throw new ChatSendError('unauthenticated', 'Log in first.');
		const before = this.role;
		this.role = { ...(this.role ?? defaultRole()), follows: on };
		try {
			if (on) await follow(token, this.channel);
			else await unfollow(token, this.channel);
			void getFollowerCount(this.channel)
				.then((n) => (this.followers = n))
				.catch(() => {});
		} catch (err) {
			// 409 means it already was that way.
			if (!(err instanceof ApiError && err.status === 409)) {
				this.role = before;
				throw err;
			}
		}
	}
}

function defaultRole(): ChatRoleView {
	return { role: 'viewer', banned: false, timedOutUntil: null, follows: false };
}

function fromView(m: ChatMessageView): MessageLine {
	return {
		kind: 'message',
		id: m.id,
		senderId: m.senderId,
		senderName: m.senderName,
		senderRole: m.senderRole,
		bot: m.bot?.name ?? null,
		text: m.text,
		sentAt: m.sentAt,
		visibleAt: m.visibleAt,
		globalPosition: m.globalPosition,
		removed: null,
		pending: false,
	};
}
