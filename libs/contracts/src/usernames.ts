/**
 * Usernames (= channel names, the web path `/<username>`): the rule every side checks, and the names the platform
 * keeps for itself. Used by the username reservation decider (libs/domain: sign-up answers 409 "reserved by the
 * platform") and by the web app's `[username=username]` route matcher (a reserved name is never a channel page, so an
 * app path such as `/settings` answers 404 until its page exists instead of "no channel called settings").
 */

/** A username: 3–24 characters of `a-z`, `0-9` and `_`, compared in lower case (docs/contracts.md, register). */
export const USERNAME_PATTERN = /^[a-z0-9_]{3,24}$/;

/**
 * Names the platform keeps for itself, in lower case: the web app's top-level pages, present (`admin`, `dashboard`,
 * `login`, `signup`) and planned (`settings`, `search`, `videos`, `following`, `notifications`, `directory`,
 * `clips`, …), whose routes would shadow a channel page of that name, plus names users would take for staff or
 * system accounts. Only names of 3–24 characters matter (shorter or longer ones are not usernames anyway).
 *
 * Adding a name here blocks new sign-ups with it and makes `/<name>` a plain 404 in the web app; an account that
 * already holds the name keeps it, but its channel page is no longer reachable at `/<name>` — check the `channels`
 * read model before adding a name on a running platform.
 */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  // The web app's pages (apps/web/src/routes) and the API/ingest paths users might confuse with them.
  'admin', 'administrator', 'dashboard', 'login', 'logout', 'signup', 'signin', 'register', 'settings', 'analytics',
  'moderation', 'api', 'docs', 'metrics', 'health', 'ready', 'status', 'hls', 'live', 'static', 'support',
  'help', 'about',
  // Pages a streaming site grows (Twitch's and Owncast's top-level paths): reserved before they exist.
  'search', 'browse', 'directory', 'explore', 'following', 'followers', 'notifications', 'videos', 'video', 'clips',
  'clip', 'vods', 'channels', 'channel', 'users', 'user', 'account', 'accounts', 'profile', 'messages', 'inbox',
  'chat', 'emotes', 'embed', 'popout', 'player', 'stream', 'streams', 'broadcast', 'broadcasts', 'integrations',
  'webhooks', 'tokens', 'oauth', 'auth', 'password', 'reset', 'verify', 'privacy', 'terms', 'legal', 'security',
  'contact', 'blog', 'jobs', 'press', 'store', 'subscriptions', 'wallet', 'payments', 'billing', 'upload',
  'downloads', 'assets', 'media', 'ingest', 'rtmp', 'favicon', 'robots', 'sitemap',
  // Staff and system names.
  'moderator', 'moderators', 'staff', 'eventcast', 'system', 'root', 'null', 'undefined', 'anonymous', 'guest',
  'automod', 'bot',
]);

/** True when `name` (any case) is one of {@link RESERVED_USERNAMES}. */
export function isReservedUsername(name: string): boolean {
  return RESERVED_USERNAMES.has(name.toLowerCase());
}
