// The realtime client (src/lib/realtime.ts) against a real WebSocket server (test/edge-server.ts): subscriptions,
// de-duplication of relayed events, reconnect with exponential backoff, resubscription and resync after a reconnect,
// resend of unacknowledged chat messages with their nonce, idle close.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ChatSendError, RealtimeClient, reconnectDelayMs, type ChannelEvent, type ConnectionState } from '#lib/realtime.ts';
import { channelEvent, TestEdge } from './edge-server.ts';

let edge: TestEdge;
let client: RealtimeClient;

/** A client on the test edge: reconnect delays 40 ms → 320 ms without jitter (random = 1: the full delay). */
function makeClient(options: ConstructorParameters<typeof RealtimeClient>[1] = {}): RealtimeClient {
	return new RealtimeClient(() => edge.url, { random: () => 1, backoffMinMs: 40, backoffMaxMs: 320, idleCloseMs: 50, ...options });
}


describe('reconnectDelayMs', () => {
	test('doubles from the minimum up to the cap, jittering the upper half', () => {
		expect([0, 1, 2, 3, 4, 5, 10].map((a) => reconnectDelayMs(a, 1, 500, 15_000))).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
		expect(reconnectDelayMs(0, 0, 500, 15_000)).toBe(250);
		expect(reconnectDelayMs(3, 0.5, 500, 15_000)).toBe(3000);
		// The defaults are the documented 0.5 s → 15 s.
		expect(reconnectDelayMs(0, 1)).toBe(500);
		expect(reconnectDelayMs(20, 1)).toBe(15_000);
	});
});

describe('RealtimeClient', () => {
	beforeEach(async () => {
		edge = await TestEdge.start();
	});
	afterEach(async () => {
		client.close();
		await edge.stop();
	});

	test('subscribes once per channel, reports the subscription position and delivers each relayed event once', async () => {
		client = makeClient();
		edge.positions.set('alice', '41');
		const a: ChannelEvent[] = [];
		const b: ChannelEvent[] = [];
		const positions: (string | undefined)[] = [];
		client.subscribe('Alice', { onEvent: (e) => a.push(e), onSubscribed: (p) => positions.push(p) });
		client.subscribe('bob', { onEvent: (e) => b.push(e) });
		await edge.until(() => edge.connections.length === 1 && edge.latest.channels.size === 2, 'both subscriptions');
		await edge.until(() => positions.length === 1, 'onSubscribed');
		expect(positions).toEqual(['41']);
		expect(edge.latest.frames.filter((f) => f.type === 'subscribe').map((f) => f.channel)).toEqual(['alice', 'bob']);

		const e1 = channelEvent('ChatMessageSent', 42);
		const e2 = channelEvent('ChannelInfoUpdated', 43);
		edge.publish('alice', e1);
		edge.publish('alice', e1); // a relay may deliver an event twice
		edge.publish('bob', e2);
		edge.publish('alice', e2); // the same id on another channel is a duplicate too
		await edge.until(() => a.length >= 1 && b.length >= 1, 'the events');
		await new Promise((r) => setTimeout(r, 50));
		expect(a.map((e) => e.id)).toEqual([e1.id]);
		expect(b.map((e) => e.id)).toEqual([e2.id]);

		// A handler added to a confirmed subscription is told at once, with the same position.
		const late: (string | undefined)[] = [];
		client.subscribe('alice', { onEvent: () => {}, onSubscribed: (p) => late.push(p) });
		await new Promise((r) => setTimeout(r, 20));
		expect(late).toEqual(['41']);
		expect(edge.latest.frames.filter((f) => f.type === 'subscribe')).toHaveLength(2);
	});

	test('reconnects with exponential backoff while the edge refuses, and starts again from the minimum after a success', async () => {
		client = makeClient();
		const states: ConnectionState[] = [];
		client.onStateChange((s) => states.push(s));
		client.subscribe('alice', { onEvent: () => {} });
		await edge.until(() => edge.latest.channels.has('alice'), 'the subscription');
		expect(states).toEqual(['idle', 'connecting', 'open']);

		edge.refuseNext = 4;
		const dropAt = performance.now();
		const before = edge.attempts.length;
		edge.dropAll();
		await edge.until(() => edge.connections.length === 2 && edge.latest.channels.has('alice'), 'the resubscription', 10_000);
		const attempts = edge.attempts.slice(before);
		expect(attempts).toHaveLength(5); // four refused, the fifth accepted
		const gaps = [attempts[0]! - dropAt, ...attempts.slice(1).map((t, i) => t - attempts[i]!)];
		const expected = [40, 80, 160, 320, 320];
		gaps.forEach((gap, i) => {
			expect(gap, `delay before attempt ${i + 1}`).toBeGreaterThanOrEqual(expected[i]! - 5);
			expect(gap, `delay before attempt ${i + 1}`).toBeLessThan(expected[i]! + 250);
		});
		expect(states.slice(3)).toEqual(['reconnecting', 'open']);

		// The successful open reset the backoff: the next drop reconnects after the minimum again.
		const secondDrop = performance.now();
		const n = edge.attempts.length;
		edge.dropAll();
		await edge.until(() => edge.connections.length === 3 && edge.latest.channels.has('alice'), 'the second reconnect');
		expect(edge.attempts[n]! - secondDrop).toBeLessThan(40 + 250);
		expect(edge.attempts[n]! - secondDrop).toBeGreaterThanOrEqual(35);
	});

	test('after a reconnect it signs in again, resubscribes every channel still wanted, and asks each handler to resync', async () => {
		client = makeClient();
		client.setToken('good');
		edge.positions.set('alice', '10');
		const subscribed: (string | undefined)[] = [];
		let resyncs = 0;
		client.subscribe('alice', { onEvent: () => {}, onSubscribed: (p) => subscribed.push(p), onResync: () => resyncs++ });
		const stopBob = client.subscribe('bob', { onEvent: () => {} });
		await edge.until(() => edge.latest.channels.size === 2 && subscribed.length === 1, 'the first subscriptions');
		expect(resyncs).toBe(0);
		expect(edge.latest.frames[0]).toEqual({ type: 'auth', token: 'good' });
		stopBob();
		await edge.until(() => !edge.latest.channels.has('bob'), 'the unsubscribe');

		edge.positions.set('alice', '25');
		edge.dropAll();
		await edge.until(() => edge.connections.length === 2 && subscribed.length === 2, 'the resubscription');
		const frames = edge.latest.frames;
		expect(frames.map((f) => f.type)).toEqual(['auth', 'subscribe']);
		expect(frames[1]).toEqual({ type: 'subscribe', channel: 'alice' });
		expect(subscribed).toEqual(['10', '25']);
		expect(resyncs).toBe(1);
		expect(client.authState).toBe('authenticated');
	});

	test('a chat send cut off by a reconnect is resent with the same nonce and resolves with its ack', async () => {
		client = makeClient();
		client.setToken('good');
		client.subscribe('alice', { onEvent: () => {} });
		await edge.until(() => edge.latest.channels.has('alice') && client.authState === 'authenticated', 'the subscription');
		edge.ack = false;
		const sent = client.sendChat('Alice', 'hello');
		await edge.until(() => edge.latest.frames.some((f) => f.type === 'chat.send'), 'the chat frame');
		const first = edge.latest.frames.find((f) => f.type === 'chat.send')!;
		expect(first).toMatchObject({ channel: 'alice', text: 'hello' });

		edge.ack = true;
		edge.dropAll();
		const ack = await sent;
		expect(ack.messageId).toBe(`m-${first.nonce}`);
		const resent = edge.latest.frames.filter((f) => f.type === 'chat.send');
		expect(resent).toEqual([first]);
		// Resent only once the new socket is signed in and subscribed.
		expect(edge.latest.frames.map((f) => f.type)).toEqual(['auth', 'subscribe', 'chat.send']);
	});

	test('a refused send rejects with the edge code and retry hint; without a connection it rejects at once', async () => {
		client = makeClient();
		await expect(client.sendChat('alice', 'early')).rejects.toMatchObject({ code: 'not_connected' });
		client.subscribe('alice', { onEvent: () => {} });
		await edge.until(() => edge.latest.channels.has('alice'), 'the subscription');
		edge.ack = false;
		const sent = client.sendChat('alice', 'too fast');
		await edge.until(() => edge.latest.frames.some((f) => f.type === 'chat.send'), 'the chat frame');
		const nonce = edge.latest.frames.find((f) => f.type === 'chat.send')!.nonce;
		edge.sendTo(edge.latest, { type: 'error', code: 'slow_mode', message: 'slow down', nonce, retryAfterMs: 2500 });
		const err = await sent.catch((e: unknown) => e);
		expect(err).toBeInstanceOf(ChatSendError);
		expect(err).toMatchObject({ code: 'slow_mode', message: 'slow down', retryAfterMs: 2500 });
	});

	test('an unanswered send times out; an invalid token marks the connection invalid', async () => {
		client = makeClient({ ackTimeoutMs: 100 });
		client.setToken('bad');
		client.subscribe('alice', { onEvent: () => {} });
		await edge.until(() => client.authState === 'invalid', 'the refused sign-in');
		edge.ack = false;
		await expect(client.sendChat('alice', 'anyone?')).rejects.toMatchObject({ code: 'timeout' });
	});

	test('closes the socket a moment after the last subscription goes, and reuses it when one comes back in time', async () => {
		client = makeClient();
		const stop = client.subscribe('alice', { onEvent: () => {} });
		await edge.until(() => edge.latest.channels.has('alice'), 'the subscription');
		stop();
		client.subscribe('bob', { onEvent: () => {} }); // within the linger: same socket
		await edge.until(() => edge.latest.channels.has('bob'), 'the second subscription');
		expect(edge.connections).toHaveLength(1);
		client.subscribeDirectory({ onEvent: () => {} })();
		await new Promise((r) => setTimeout(r, 120));
		expect(edge.open).toHaveLength(1); // still watching bob

		const states: ConnectionState[] = [];
		client.onStateChange((s) => states.push(s));
		client.close();
		await edge.until(() => edge.open.length === 0, 'the close');
		expect(states.at(-1)).toBe('idle');
	});
});
