/**
 * Chat and moderation over HTTP (docs/chat.md): history, settings, roles, blocked terms, the moderation log and emotes
 * from query-api; moderation commands, settings, emotes and follows on command-api. Chat messages themselves go over
 * the realtime WebSocket (../realtime.ts).
 */
import type { BlockedTerms, ChatHistory, ChatRoleView, ChatSettings, ChatSettingsView, Emote, EmoteList, FollowerCount, ModerationLog } from '@eventcast/contracts';
import { serviceUrls } from '../config.ts';
import { ch, request, u } from './http.ts';

export type { ChatHistory, ChatMessageView, ChatRole, ChatRoleView, ChatSettings, ChatSettingsView, Emote } from '@eventcast/contracts';
/** Moderation shapes (moderation.ts of @eventcast/contracts). */
export type { BlockedTerms, ChatSettingChange, ModerationLog, ModerationLogEntry, ModerationRefusal, SettingsChangedDetails } from '@eventcast/contracts';
/**
 * Same as the chat room aggregate: 1–500 user-perceived characters (graphemes) after trimming, and the text rule
 * (no control characters, bidi overrides or unpaired surrogates); the room's default settings; the emote rules.
 * From the contract module, never a copy.
 */
export {
	CHAT_MESSAGE_MAX_CODE_UNITS,
	CHAT_MESSAGE_MAX_LENGTH,
	DEFAULT_CHAT_SETTINGS,
	EMOTE_CODE_PATTERN as EMOTE_CODE_RE,
	EMOTE_MAX_BYTES,
	chatTextStatus,
} from '@eventcast/contracts';

/** Absolute URL for an emote image (the query-api may answer with a path). */
export function emoteUrl(url: string): string {
	try {
		return new URL(url, serviceUrls().queryApi + '/').toString();
	} catch {
		return url;
	}
}

/** `GET /channels/:username/chat/messages?before=&limit=`: newest first (limit default 50). */
export const getChatHistory = (username: string, opts: { before?: string | null; limit?: number; signal?: AbortSignal } = {}) => {
	const q = new URLSearchParams();
	if (opts.before) q.set('before', opts.before);
	q.set('limit', String(opts.limit ?? 50));
	return request<ChatHistory>('query', `${ch(username)}/chat/messages?${q}`, { signal: opts.signal });
};

export const getChatSettings = (username: string, signal?: AbortSignal) =>
	request<ChatSettingsView>('query', `${ch(username)}/chat/settings`, { signal });

export const getChatRole = (username: string, user: string, token?: string | null, signal?: AbortSignal) =>
	request<ChatRoleView>('query', `${ch(username)}/chat/roles/${u(user)}`, { token, signal });

export const getBlockedTerms = (token: string, username: string, signal?: AbortSignal) =>
	request<BlockedTerms>('query', `${ch(username)}/chat/blocked-terms`, { token, signal });

/** `GET /channels/:username/chat/moderation-log?before=&limit=` (owner and moderators), newest first. */
export const getModerationLog = (token: string, username: string, opts: { before?: string | null; limit?: number; signal?: AbortSignal } = {}) => {
	const q = new URLSearchParams();
	if (opts.before) q.set('before', opts.before);
	q.set('limit', String(opts.limit ?? 50));
	return request<ModerationLog>('query', `${ch(username)}/chat/moderation-log?${q}`, { token, signal: opts.signal });
};

export const listEmotes = async (username: string, signal?: AbortSignal): Promise<Emote[]> =>
	(await request<Partial<EmoteList>>('query', `${ch(username)}/emotes`, { signal })).emotes ?? [];

export const getFollowerCount = async (username: string, signal?: AbortSignal) =>
	(await request<FollowerCount>('query', `${ch(username)}/followers`, { signal })).count;

export const deleteChatMessage = (token: string, username: string, messageId: string, reason?: string) =>
	request<unknown>('command', `${ch(username)}/chat/messages/${encodeURIComponent(messageId)}`, {
		method: 'DELETE',
		token,
		body: reason ? { reason } : undefined,
	});

export const clearChat = (token: string, username: string) =>
	request<unknown>('command', `${ch(username)}/chat/clear`, { method: 'POST', token });

export const timeoutUser = (token: string, username: string, user: string, durationSeconds: number, reason?: string) =>
	request<unknown>('command', `${ch(username)}/chat/timeouts`, {
		method: 'POST',
		token,
		body: { username: user.toLowerCase(), durationSeconds, ...(reason ? { reason } : {}) },
	});

export const banUser = (token: string, username: string, user: string, reason?: string) =>
	request<unknown>('command', `${ch(username)}/chat/bans`, {
		method: 'POST',
		token,
		body: { username: user.toLowerCase(), ...(reason ? { reason } : {}) },
	});

export const unbanUser = (token: string, username: string, user: string) =>
	request<unknown>('command', `${ch(username)}/chat/bans/${u(user)}`, { method: 'DELETE', token });

export const addModerator = (token: string, username: string, user: string) =>
	request<unknown>('command', `${ch(username)}/chat/moderators/${u(user)}`, { method: 'PUT', token });

export const removeModerator = (token: string, username: string, user: string) =>
	request<unknown>('command', `${ch(username)}/chat/moderators/${u(user)}`, { method: 'DELETE', token });

export const updateChatSettings = (token: string, username: string, settings: Partial<ChatSettings>) =>
	request<unknown>('command', `${ch(username)}/chat/settings`, { method: 'PUT', token, body: settings });

export const updateBlockedTerms = (token: string, username: string, terms: BlockedTerms) =>
	request<unknown>('command', `${ch(username)}/chat/blocked-terms`, { method: 'PUT', token, body: terms });

export const addEmote = (token: string, username: string, emote: { code: string; contentType: string; imageBase64: string }) =>
	request<unknown>('command', `${ch(username)}/emotes`, { method: 'POST', token, body: emote });

export const removeEmote = (token: string, username: string, code: string) =>
	request<unknown>('command', `${ch(username)}/emotes/${encodeURIComponent(code)}`, { method: 'DELETE', token });

export const follow = (token: string, username: string) =>
	request<unknown>('command', `${ch(username)}/follow`, { method: 'PUT', token });

export const unfollow = (token: string, username: string) =>
	request<unknown>('command', `${ch(username)}/follow`, { method: 'DELETE', token });
