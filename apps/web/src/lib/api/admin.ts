/** Admin pages (docs/contracts.md "Admin pages"; platform admins only, Bearer): query-api's operator views. */
import { storageUsageSchema, type AdminBroadcasts, type AuditCategory, type AuditPage, type ProjectionsStatus } from '@eventcast/contracts';
import { parsed, request } from './http.ts';

export { AUDIT_CATEGORIES } from '@eventcast/contracts';
export type { AuditCategory, AuditEntry, AuditPage, ProjectionStatus, ProjectionsStatus, StorageUsage } from '@eventcast/contracts';

/** `GET /admin/projections`: every projection's checkpoint, lag and rebuild. */
export const getProjectionsStatus = (token: string, signal?: AbortSignal) =>
	request<ProjectionsStatus>('query', '/admin/projections', { token, signal });

/** `GET /admin/audit?before=&limit=&category=`: newest first. */
export const getAuditTrail = (token: string, opts: { before?: string | null; limit?: number; category?: AuditCategory | null; signal?: AbortSignal } = {}) => {
	const q = new URLSearchParams();
	if (opts.before) q.set('before', opts.before);
	if (opts.limit) q.set('limit', String(opts.limit));
	if (opts.category) q.set('category', opts.category);
	const qs = q.toString();
	return request<AuditPage>('query', `/admin/audit${qs ? `?${qs}` : ''}`, { token, signal: opts.signal });
};

/** `GET /admin/broadcasts`: live broadcasts with their ingest health (`AdminBroadcasts` of @eventcast/contracts, ingest-health.ts). */
export const getAdminBroadcasts = (token: string, signal?: AbortSignal) =>
	request<AdminBroadcasts>('query', '/admin/broadcasts', { token, signal });

/** `GET /admin/storage` (admins): disk used by recordings and clips, retention and budget. */
export const getStorageUsage = async (token: string, signal?: AbortSignal) =>
	parsed(storageUsageSchema, await request<unknown>('query', '/admin/storage', { token, signal }), 'the storage usage');
