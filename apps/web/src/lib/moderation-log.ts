/**
 * Reading a channel's moderation log (`GET /channels/:username/chat/moderation-log`) for people: the kind of each
 * action, its label, and its details in words (a settings change as "slow mode off → 5 s, …"). Pure.
 */
import type { ModerationLogEntry } from './api.ts';
import { settingsChangedDetailsSchema, type ChatSettingChange } from '@eventcast/contracts';

/** What kind of moderation action a log entry's `action` is (event names or short verbs). */
export type ModerationKind = ReturnType<typeof kind>;

/** Normalised action kind from the log's `action` (event names or short verbs). */
export function kind(action: string): 'unban' | 'ban' | 'timeout' | 'delete' | 'clear' | 'mod' | 'unmod' | 'settings' | 'terms' | 'emote' | 'refused' | 'other' {
	const a = action.toLowerCase().replace(/[^a-z]/g, '');
	if (a.includes('refused')) return 'refused';
	if (a.includes('unban')) return 'unban';
	if (a.includes('ban')) return 'ban';
	if (a.includes('timedout') || a.includes('timeout')) return 'timeout';
	if (a.includes('delete')) return 'delete';
	if (a.includes('clear')) return 'clear';
	if (a.includes('moderatorremoved') || a.includes('removemod') || a.includes('unmod')) return 'unmod';
	if (a.includes('moderator') || a.includes('addmod')) return 'mod';
	if (a.includes('settings')) return 'settings';
	if (a.includes('blocked') || a.includes('terms')) return 'terms';
	if (a.includes('emote')) return 'emote';
	return 'other';
}

/** The action column's words per kind ('' = show the raw action). */
export const LABEL: Record<ModerationKind, string> = {
	unban: 'Unban',
	ban: 'Ban',
	timeout: 'Timeout',
	delete: 'Delete message',
	clear: 'Clear chat',
	mod: 'Add moderator',
	unmod: 'Remove moderator',
	settings: 'Settings',
	terms: 'Blocked terms',
	emote: 'Emotes',
	refused: 'Message refused',
	other: '',
};

/** The entry's details in words (a timeout's length, the deleted text, the settings changed, …), or ''. */
export function describe(e: ModerationLogEntry): string {
	const d = (e.details && typeof e.details === 'object' ? e.details : {}) as Record<string, unknown>;
	const k = kind(e.action);
	if (k === 'timeout' && typeof d.durationSeconds === 'number') {
		const s = d.durationSeconds;
		return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
	}
	if (k === 'delete' && typeof d.text === 'string') return `“${d.text}”`;
	if (k === 'terms' && Array.isArray(d.terms)) return `${d.terms.length} term${d.terms.length === 1 ? '' : 's'}${typeof d.action === 'string' ? ` · ${d.action}` : ''}`;
	if (k === 'emote' && typeof d.code === 'string') return `${e.action.includes('remove') ? 'removed' : 'added'} :${d.code}:`;
	if (k === 'settings') return settingsText(d);
	return '';
}

const seconds = (v: number | boolean) => (v === 0 ? 'off' : `${String(v)} s`);
const onOff = (v: number | boolean) => (v ? 'on' : 'off');
/** One changed setting, old → new: "rate limit 5 → 10 messages per 10 s", "slow mode off → 5 s". */
function changeText(c: ChatSettingChange, all: readonly ChatSettingChange[], after: Record<string, unknown>): string | null {
	switch (c.setting) {
		case 'enabled':
			return `chat ${onOff(c.from)} → ${onOff(c.to)}`;
		case 'slowModeSeconds':
			return `slow mode ${seconds(c.from)} → ${seconds(c.to)}`;
		case 'followersOnly':
			return `followers-only ${onOff(c.from)} → ${onOff(c.to)}`;
		case 'emoteOnly':
			return `emote-only ${onOff(c.from)} → ${onOff(c.to)}`;
		case 'messageDelaySeconds':
			return `message delay ${seconds(c.from)} → ${seconds(c.to)}`;
		case 'rateLimitMessages': {
			const window = all.find((w) => w.setting === 'rateLimitWindowSeconds');
			if (window) return `rate limit ${String(c.from)} per ${String(window.from)} s → ${String(c.to)} per ${String(window.to)} s`;
			return `rate limit ${String(c.from)} → ${String(c.to)} messages per ${String(after.rateLimitWindowSeconds ?? '?')} s`;
		}
		case 'rateLimitWindowSeconds':
			// Said with the message count when both changed.
			if (all.some((m) => m.setting === 'rateLimitMessages')) return null;
			return `rate limit window ${String(c.from)} s → ${String(c.to)} s (${String(after.rateLimitMessages ?? '?')} messages)`;
	}
}

/** A settings change: what changed, old → new (`details.changes`); entries written before that list only the result. */
function settingsText(d: Record<string, unknown>): string {
	const parsed = settingsChangedDetailsSchema.safeParse(d);
	if (parsed.success) {
		const { changes, settings } = parsed.data;
		const parts = changes.map((c) => changeText(c, changes, settings)).filter((t): t is string => t !== null);
		return parts.length ? parts.join(', ') : 'no change';
	}
	const s = (d.settings && typeof d.settings === 'object' ? d.settings : {}) as Record<string, unknown>;
	const parts: string[] = [];
	if (s.enabled === false) parts.push('chat off');
	if (typeof s.slowModeSeconds === 'number' && s.slowModeSeconds > 0) parts.push(`slow ${s.slowModeSeconds} s`);
	if (s.followersOnly) parts.push('followers-only');
	if (s.emoteOnly) parts.push('emote-only');
	if (typeof s.messageDelaySeconds === 'number' && s.messageDelaySeconds > 0) parts.push(`delay ${s.messageDelaySeconds} s`);
	if (typeof s.rateLimitMessages === 'number') parts.push(`rate limit ${s.rateLimitMessages} per ${String(s.rateLimitWindowSeconds ?? '?')} s`);
	return parts.join(', ');
}
