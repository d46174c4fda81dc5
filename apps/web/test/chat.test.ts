// The chat room state (src/lib/chat.svelte.ts): `apply()` of relayed events (messages, deletes, clears, timeouts,
// bans, settings, follows) and the merge of the history with live frames — over the real realtime client and a real
// WebSocket server (test/edge-server.ts) — in global-position order without loss or duplicates, also after reconnects.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ChatRoom, type ChatLine, type ChatRoomDeps, type Me, type MessageLine } from '#lib/chat.svelte.ts';
import { RealtimeClient, type ChannelEvent } from '#lib/realtime.ts';
import { channelEvent, chatMessage, TestEdge } from './edge-server.ts';

type History = Awaited<ReturnType<ChatRoomDeps['getChatHistory']>>;
type HistoryMessage = History['messages'][number];

/** A history entry as query-api returns it for `messageId` at `position`. */
function view(id: string, position: number, senderId = 'u-alice'): HistoryMessage {
	const at = new Date(Date.UTC(2026, 11, 7, 12, 0, position)).toISOString();
	return { id, senderId, senderName: senderId.replace(/^u-/, ''), senderRole: 'viewer', text: `text of ${id}`, sentAt: at, visibleAt: at, globalPosition: String(position) };
}

/** A history read answering `messages` (oldest first; returned newest first, as query-api does) at `position`. */
function history(messages: HistoryMessage[], position?: number): History {
	return { messages: [...messages].reverse(), nextBefore: null, position: position === undefined ? undefined : String(position) };
}

const ids = (lines: ChatLine[]) => lines.filter((l): l is MessageLine => l.kind === 'message').map((l) => l.id);
const notices = (lines: ChatLine[]) => lines.filter((l) => l.kind === 'notice');

/** A room whose history read answers `read()` and whose realtime client is never used. */
async function roomWith(messages: HistoryMessage[], me: Me | null = null): Promise<ChatRoom> {
	const unused = new RealtimeClient(() => 'ws://127.0.0.1:9/ws');
	const room = new ChatRoom('alice', () => me, () => null, { realtime: () => unused, getChatHistory: () => Promise.resolve(history(messages)) });
	await room.sync();
	return room;
}

const OWNER: Me = { id: 'u-alice', username: 'alice' };
const BOB: Me = { id: 'u-bob', username: 'bob' };

describe('ChatRoom.apply', () => {
	test('shows the history oldest first, appends live messages once each and replaces an own pending message', async () => {
		const room = await roomWith([view('m1', 1), view('m2', 2)], BOB);
		expect(ids(room.lines)).toEqual(['m1', 'm2']);
		expect(room.status).toBe('ready');
		const heard: string[] = [];
		room.onMessage((l) => heard.push(l.id));

		room.apply(chatMessage('m3', 3), true);
		room.apply(chatMessage('m3', 3), true);
		room.apply(chatMessage('m2', 2), true);
		expect(ids(room.lines)).toEqual(['m1', 'm2', 'm3']);
		expect(room.appended).toBe(1);
		expect(heard).toEqual(['m3']);

		// Replayed (not live) messages are shown but neither counted nor announced.
		room.apply(chatMessage('m4', 4), false);
		expect(ids(room.lines)).toEqual(['m1', 'm2', 'm3', 'm4']);
		expect(room.appended).toBe(1);

		// The sender's own delayed message is shown pending, then replaced in place by the relayed one.
		room.lines = [...room.lines, { ...(room.lines[0] as MessageLine), id: 'm5', senderId: BOB.id, pending: true, globalPosition: null }];
		room.apply(chatMessage('m6', 6), true);
		room.apply(chatMessage('m5', 5, BOB.id, 'mine'), true);
		const m5 = room.lines.find((l) => l.id === 'm5') as MessageLine;
		expect(ids(room.lines)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
		expect(m5).toMatchObject({ pending: false, text: 'mine', globalPosition: '5' });
	});

	test('a deleted message disappears for viewers and is greyed out for moderators', async () => {
		const viewer = await roomWith([view('m1', 1), view('m2', 2)], BOB);
		viewer.apply(channelEvent('ChatMessageDeleted', 3, { messageId: 'm1' }), true);
		expect(ids(viewer.lines)).toEqual(['m2']);

		const owner = await roomWith([view('m1', 1), view('m2', 2)], OWNER);
		owner.apply(channelEvent('ChatMessageDeleted', 3, { messageId: 'm1' }), true);
		expect(owner.lines.map((l) => (l.kind === 'message' ? [l.id, l.removed] : null))).toEqual([
			['m1', 'deleted'],
			['m2', null],
		]);
	});

	test('a clear removes the messages before its position only and says so', async () => {
		const room = await roomWith([view('m1', 1), view('m2', 2), view('m4', 4)], BOB);
		room.apply(channelEvent('ChatCleared', 3), true);
		expect(ids(room.lines)).toEqual(['m4']);
		expect(notices(room.lines)).toMatchObject([{ text: 'Chat was cleared by a moderator.', modOnly: false }]);
	});

	test("a timeout or ban removes the user's earlier messages only; moderators get a notice, the user a warning and a new role", async () => {
		const viewer = await roomWith([view('a1', 1), view('c1', 2, 'u-carol'), view('a2', 3)], BOB);
		viewer.apply(channelEvent('ChatUserTimedOut', 4, { userId: 'u-alice', userName: 'alice', moderatorName: 'mod', durationSeconds: 600 }), true);
		viewer.apply(chatMessage('a3', 5), true); // after the timeout's position: stays
		expect(ids(viewer.lines)).toEqual(['c1', 'a3']);
		expect(notices(viewer.lines)).toEqual([]); // moderation notices are for moderators

		const owner = await roomWith([view('c1', 1, 'u-carol'), view('d1', 2, 'u-dave')], OWNER);
		owner.apply(channelEvent('ChatUserBanned', 3, { userId: 'u-carol', userName: 'carol', moderatorName: 'alice' }), true);
		expect(owner.lines.filter((l) => l.kind === 'message').map((l) => (l as MessageLine).removed)).toEqual(['ban', null]);
		expect(notices(owner.lines)).toMatchObject([{ text: 'carol was banned by alice.', modOnly: true }]);

		const me = await roomWith([view('b1', 1, BOB.id)], BOB);
		me.apply(channelEvent('ChatUserTimedOut', 2, { userId: BOB.id, until: '2026-12-07T13:10:00.000Z', durationSeconds: 600 }), true);
		expect(me.role).toMatchObject({ timedOutUntil: '2026-12-07T13:10:00.000Z' });
		expect(notices(me.lines)).toMatchObject([{ text: 'You were timed out for 10 minutes.', tone: 'warn' }]);
		me.apply(channelEvent('ChatUserBanned', 3, { userId: BOB.id }), true);
		expect(me.role).toMatchObject({ banned: true });
		me.apply(channelEvent('ChatUserUnbanned', 4, { userId: BOB.id }), true);
		expect(me.role).toMatchObject({ banned: false, timedOutUntil: null });
		expect(ids(me.lines)).toEqual([]);
	});

	test('settings changes announce what changed when live; follows move the count and my own standing', async () => {
		const room = await roomWith([], BOB);
		room.apply(channelEvent('ChatSettingsChanged', 1, { settings: { slowModeSeconds: 30 } }), false);
		expect(room.settings.slowModeSeconds).toBe(30);
		expect(notices(room.lines)).toEqual([]);
		room.apply(channelEvent('ChatSettingsChanged', 2, { settings: { slowModeSeconds: 0, emoteOnly: true } }), true);
		expect(notices(room.lines).map((n) => n.kind === 'notice' && n.text)).toEqual(['Slow mode is off.', 'Emote-only mode is on.']);

		room.followers = 5;
		room.apply(channelEvent('ChannelFollowed', 3, { followerId: BOB.id }), true);
		room.apply(channelEvent('ChannelFollowed', 4, { followerId: 'u-carol' }), true);
		room.apply(channelEvent('ChannelUnfollowed', 5, { followerId: 'u-carol' }), true);
		expect(room.followers).toBe(6);
		expect(room.role).toMatchObject({ follows: true });
	});
});

describe('ChatRoom history + live merge over the realtime client', () => {
	let edge: TestEdge;
	let client: RealtimeClient;
	let stop: (() => void) | undefined;

	beforeEach(async () => {
		edge = await TestEdge.start();
		client = new RealtimeClient(() => edge.url, { random: () => 1, backoffMinMs: 30, backoffMaxMs: 100 });
	});
	afterEach(async () => {
		stop?.();
		client.close();
		await edge.stop();
	});

	/** A history read that waits for `release()` (so live frames can arrive meanwhile), counting its calls. */
	function gatedHistory(answer: () => History) {
		let open: () => void = () => {};
		const gate = new Promise<void>((r) => (open = r));
		const calls: number[] = [];
		const read = async () => {
			calls.push(calls.length + 1);
			await gate;
			return answer();
		};
		return {
			read,
			calls,
			release: () => open(),
		};
	}

	test('live frames received while the history loads are merged in position order, without duplicates', async () => {
		edge.positions.set('alice', '7');
		const h = gatedHistory(() => history([view('m1', 3), view('m2', 5), view('m3', 7)], 7));
		const room = new ChatRoom('alice', () => BOB, () => null, { realtime: () => client, getChatHistory: h.read });
		const relayed: ChannelEvent[] = [];
		client.subscribe('alice', { onEvent: (e) => relayed.push(e) });
		stop = room.listen();
		await edge.until(() => h.calls.length === 1, 'the history read');
		expect(room.status).toBe('joining');

		edge.publish('alice', chatMessage('m3', 7)); // already in the history
		edge.publish('alice', chatMessage('m5', 9)); // arrives before m4, has a later position
		edge.publish('alice', chatMessage('m4', 8));
		edge.publish('alice', channelEvent('ChatMessageDeleted', 10, { messageId: 'm2' }));
		await edge.until(() => relayed.length === 4, 'the live frames');
		expect(ids(room.lines)).toEqual([]); // buffered until the history is in

		h.release();
		await edge.until(() => room.status === 'ready', 'the merge');
		expect(ids(room.lines)).toEqual(['m1', 'm3', 'm4', 'm5']);
		expect(room.appended).toBe(0);

		edge.publish('alice', chatMessage('m6', 11));
		await edge.until(() => ids(room.lines).includes('m6'), 'a live message');
		expect(ids(room.lines)).toEqual(['m1', 'm3', 'm4', 'm5', 'm6']);
		expect(room.appended).toBe(1);
	});

	test('a history read behind the subscription position is read again until it reflects it', async () => {
		edge.positions.set('alice', '8');
		let reads = 0;
		const read = () => {
			reads++;
			return Promise.resolve(reads === 1 ? history([view('m1', 3)], 5) : history([view('m1', 3), view('m2', 8)], 8));
		};
		const room = new ChatRoom('alice', () => BOB, () => null, { realtime: () => client, getChatHistory: read });
		stop = room.listen();
		await edge.until(() => room.status === 'ready', 'the merge');
		expect(reads).toBe(2);
		expect(ids(room.lines)).toEqual(['m1', 'm2']);
	});

	test('after a reconnect the history is read again: messages missed while offline appear, none twice', async () => {
		edge.positions.set('alice', '2');
		let messages = [view('m1', 1), view('m2', 2)];
		const room = new ChatRoom('alice', () => BOB, () => null, {
			realtime: () => client,
			getChatHistory: () => Promise.resolve(history(messages, Number(edge.positions.get('alice')))),
		});
		stop = room.listen();
		await edge.until(() => room.status === 'ready' && ids(room.lines).length === 2, 'the first merge');
		edge.publish('alice', chatMessage('m3', 3));
		await edge.until(() => ids(room.lines).length === 3, 'a live message');

		edge.dropAll();
		// Sent while this page was offline: never relayed to it, only in the history.
		messages = [view('m1', 1), view('m2', 2), view('m3', 3), view('m4', 4)];
		edge.positions.set('alice', '4');
		await edge.until(() => edge.connections.length === 2 && ids(room.lines).includes('m4'), 'the resync');
		edge.publish('alice', chatMessage('m4', 4)); // a late duplicate relay
		edge.publish('alice', chatMessage('m5', 5));
		await edge.until(() => ids(room.lines).includes('m5'), 'a live message after the reconnect');
		expect(ids(room.lines)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
	});
});
