/** command-api: sign-up, login, sessions (refresh, logout), the caller's account, stream key and channel settings (docs/contracts.md). */
import { LATENCY_MODE_PATH, type AuthResult, type ChannelInfo, type ChannelLatency, type LatencyMode, type Me, type StreamKeyReply, type UpdateChannelRequest } from '@eventcast/contracts';
import { request } from './http.ts';

export type { AccountRef as Account, AuthResult, ChannelInfo, Me } from '@eventcast/contracts';
/** The owner's stream key and ingest URLs (the contract's `streamKeyReplySchema`). */
export type StreamKeyInfo = StreamKeyReply;

/** `POST /auth/register`: creates the account and its channel; 409 when the name is taken or reserved. */
export const register = (username: string, password: string) =>
	request<AuthResult>('command', '/auth/register', { method: 'POST', body: { username, password }, withCookies: true });

/** `POST /auth/login`; 401 on a wrong name or password. */
export const login = (username: string, password: string) =>
	request<AuthResult>('command', '/auth/login', { method: 'POST', body: { username, password }, withCookies: true });

/**
 * `POST /auth/refresh` (docs/contracts.md "Sessions"): exchanges the HttpOnly refresh cookie for a new one and a new
 * access token; 401 with a `code` of SESSION_REFUSAL_CODES when there is no valid session (sign in again).
 */
export const refreshSession = () => request<AuthResult>('command', '/auth/refresh', { method: 'POST', withCookies: true });

/** `POST /auth/logout`: ends the cookie's session and clears the cookie (204, also without a session). */
export const logoutSession = () => request<null>('command', '/auth/logout', { method: 'POST', withCookies: true });

/**
 * `POST /auth/password`: changes the password (the current one required; 403 `wrong_password`). Every session of the
 * account ends; the reply signs this browser in again (new access token and cookie).
 */
export const changePassword = (token: string, currentPassword: string, newPassword: string) =>
	request<AuthResult>('command', '/auth/password', { method: 'POST', token, body: { currentPassword, newPassword }, withCookies: true });

/** `POST /auth/logout-all`: ends every session of the signed-in account (204). */
export const logoutEverywhere = (token: string) => request<null>('command', '/auth/logout-all', { method: 'POST', token, withCookies: true });

/** `GET /me`: the signed-in account. */
export const getMe = (token: string, signal?: AbortSignal) => request<Me>('command', '/me', { token, signal });

/** `GET /me/stream-key` (the owner only). */
export const getStreamKey = (token: string, signal?: AbortSignal) =>
	request<StreamKeyInfo>('command', '/me/stream-key', { token, signal });

/** `POST /me/stream-key/rotate`: a new key; the old one stops working. */
export const rotateStreamKey = (token: string) =>
	request<StreamKeyInfo>('command', '/me/stream-key/rotate', { method: 'POST', token });

/** `PUT /me/channel`: title and category (omitted fields keep their value). */
export const updateChannel = (token: string, info: UpdateChannelRequest) =>
	request<ChannelInfo>('command', '/me/channel', { method: 'PUT', token, body: info });

/** Sets the caller's channel latency mode (`PUT /me/channel/latency-mode`, `SetLatencyModeRequest`). */
export const setLatencyMode = (token: string, latencyMode: LatencyMode) =>
	request<ChannelLatency>('command', LATENCY_MODE_PATH, { method: 'PUT', token, body: { latencyMode } });
