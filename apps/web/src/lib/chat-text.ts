/**
 * Chat text in words and parts, pure (no state): emote segments of a message, durations and countdowns, the words for
 * every chat error code of docs/chat.md, and the room notices for a settings change.
 */
import type { ChatSettings } from './api.ts';
import { sentence } from './format.ts';

export type Segment = { type: 'text'; text: string } | { type: 'emote'; code: string; url: string };

const EMOTE_TOKEN = /:([A-Za-z0-9_]{2,32}):/g;

/** Splits a message into text and the channel's emotes (`:code:`); unknown codes stay text. Never HTML. */
export function segments(text: string, emotes: ReadonlyMap<string, string>): Segment[] {
	if (emotes.size === 0 || !text.includes(':')) return [{ type: 'text', text }];
	const out: Segment[] = [];
	let last = 0;
	for (const m of text.matchAll(EMOTE_TOKEN)) {
		const code = m[1] ?? '';
		const url = emotes.get(code);
		if (!url) continue;
		const start = m.index ?? 0;
		if (start > last) out.push({ type: 'text', text: text.slice(last, start) });
		out.push({ type: 'emote', code, url });
		last = start + m[0].length;
	}
	if (last < text.length) out.push({ type: 'text', text: text.slice(last) });
	return out;
}

/** Human duration: 60 → "60 seconds", 600 → "10 minutes", 86400 → "24 hours". */
export function durationWords(seconds: number): string {
	if (seconds < 120) return `${seconds} second${seconds === 1 ? '' : 's'}`;
	if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
	if (seconds < 172800) return `${Math.round(seconds / 3600)} hours`;
	return `${Math.round(seconds / 86400)} days`;
}

/** Countdown text: 75 000 ms → "1:15", 9 000 ms → "9 s". */
export function countdown(ms: number): string {
	const s = Math.max(0, Math.ceil(ms / 1000));
	if (s < 60) return `${s} s`;
	const h = Math.floor(s / 3600);
	const m = Math.floor((s % 3600) / 60);
	const r = s % 60;
	return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/** Words for every chat error code of docs/chat.md (and the client's own). `{n}` is replaced by the live countdown. */
export function chatErrorText(code: string, channel: string, fallback?: string): string {
	switch (code) {
		case 'banned':
			return 'You are banned from this chat.';
		case 'timed_out':
			return "You're timed out — you can chat again in {n}.";
		case 'empty':
			return 'Type a message first.';
		case 'too_long':
			return 'Messages can be at most 500 characters.';
		case 'chat_disabled':
			return 'Chat is turned off right now.';
		case 'followers_only':
			return `Only followers can chat right now — follow ${channel} to join in.`;
		case 'emote_only':
			return "Emote-only mode is on — send only this channel's emotes.";
		case 'slow_mode':
			return 'Slow mode is on — you can send again in {n}.';
		case 'rate_limited':
			return "You're sending messages too quickly — try again in {n}.";
		case 'blocked_term':
			return "Your message wasn't sent: it contains a term the streamer has blocked.";
		case 'channel_not_found':
			return "This channel doesn't exist any more.";
		case 'invalid_request':
			// The server says what is wrong (e.g. "text contains U+202E, a bidirectional formatting character, …").
			return fallback ? `That message couldn't be sent: ${fallback}.` : "That message couldn't be sent. Check it and try again.";
		case 'internal_error':
			return 'Chat had a problem sending that — try again in a moment.';
		case 'unauthenticated':
			return 'Log in to chat.';
		case 'invalid_token':
			return 'Your session has expired — log in again to chat.';
		case 'not_subscribed':
			return 'Still joining the chat — try again in a moment.';
		case 'message_too_large':
			return 'That message is too large to send.';
		case 'not_connected':
			return "You're offline — reconnecting to chat…";
		case 'timeout':
			return "Chat didn't confirm your message — it may not have been sent.";
		case 'forbidden':
			// Moderation refusals say why in the message ("moderators cannot ban the channel owner"): show it.
			return fallback && !/^[a-z_]+$/.test(fallback) ? sentence(fallback) : "You're not allowed to do that.";
		default:
			return fallback || 'Your message could not be sent.';
	}
}

/** Twitch-style room notices for what changed. */
export function settingsNotices(a: ChatSettings, b: ChatSettings): string[] {
	const out: string[] = [];
	if (a.enabled !== b.enabled) out.push(b.enabled ? 'Chat is on again.' : 'Chat was turned off by the streamer.');
	if (a.slowModeSeconds !== b.slowModeSeconds)
		out.push(b.slowModeSeconds > 0 ? `Slow mode is on: one message every ${durationWords(b.slowModeSeconds)}.` : 'Slow mode is off.');
	if (a.followersOnly !== b.followersOnly) out.push(b.followersOnly ? 'This chat is now followers-only.' : 'Followers-only mode is off.');
	if (a.emoteOnly !== b.emoteOnly) out.push(b.emoteOnly ? 'Emote-only mode is on.' : 'Emote-only mode is off.');
	if (a.messageDelaySeconds !== b.messageDelaySeconds)
		out.push(b.messageDelaySeconds > 0 ? `Messages now appear after a ${b.messageDelaySeconds} s delay.` : 'Message delay is off.');
	return out;
}
