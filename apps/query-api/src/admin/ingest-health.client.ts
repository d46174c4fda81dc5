/**
 * Reads `GET /admin/health` of the ingest nodes (apps/ingest/src/admin-health.ts) for `GET /admin/broadcasts`. The
 * caller's own admin bearer token is forwarded (ingest checks it against the same `JWT_SECRET` and admin list).
 * A node that is down, slow (> {@link INGEST_TIMEOUT_MS}) or answers an error is reported, never thrown.
 */
import type { IngestHealthDto, IngestNodeDto } from './admin.dto.js';

/** How long one ingest node may take to answer, ms. */
export const INGEST_TIMEOUT_MS = 2000;

/** One channel as the ingest reports it (the fields used here; see ChannelHealth in apps/ingest/src/channels.ts). */
interface IngestChannel extends Omit<IngestHealthDto, 'ingestId'> {
  channelId: string;
  username: string;
  broadcastId: string | null;
}

/** What the nodes said: each node's outcome, and the channels by channel id. */
export interface IngestHealthSnapshot {
  nodes: IngestNodeDto[];
  channels: Map<string, IngestHealthDto & { broadcastId: string | null }>;
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${INGEST_TIMEOUT_MS} ms`;
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return `${cause.code} (${typeof cause.message === 'string' ? cause.message : err.message})`;
    return err.message;
  }
  return String(err);
}

async function readNode(url: string, authorization: string): Promise<{ node: IngestNodeDto; channels: IngestChannel[] }> {
  try {
    const res = await fetch(`${url}/admin/health`, { headers: { authorization, accept: 'application/json' }, signal: AbortSignal.timeout(INGEST_TIMEOUT_MS) });
    const body = (await res.json().catch(() => null)) as { ingestId?: unknown; channels?: unknown; message?: unknown } | null;
    if (!res.ok) {
      const message = body && typeof body.message === 'string' ? body.message : res.statusText;
      return { node: { url, ingestId: null, reachable: true, error: `HTTP ${res.status}: ${message}` }, channels: [] };
    }
    if (!body || typeof body.ingestId !== 'string' || !Array.isArray(body.channels)) {
      return { node: { url, ingestId: null, reachable: true, error: 'unexpected answer (not an ingest health report)' }, channels: [] };
    }
    return { node: { url, ingestId: body.ingestId, reachable: true, error: null }, channels: body.channels as IngestChannel[] };
  } catch (err) {
    return { node: { url, ingestId: null, reachable: false, error: describeError(err) }, channels: [] };
  }
}

/**
 * Asks every node at once.
 * @param urls ingest base URLs (`INGEST_URL`). @param authorization the caller's `Authorization` header value.
 */
export async function readIngestHealth(urls: readonly string[], authorization: string): Promise<IngestHealthSnapshot> {
  const answers = await Promise.all(urls.map((u) => readNode(u, authorization)));
  const channels = new Map<string, IngestHealthDto & { broadcastId: string | null }>();
  for (const { node, channels: list } of answers) {
    for (const c of list) {
      if (typeof c?.channelId !== 'string') continue;
      channels.set(c.channelId, {
        ingestId: node.ingestId ?? '',
        broadcastId: c.broadcastId ?? null,
        connected: c.connected === true,
        publishingSince: c.publishingSince ?? null,
        input: c.input ?? null,
        packager: c.packager ?? { running: false, restarts: 0, progress: null },
      });
    }
  }
  return { nodes: answers.map((a) => a.node), channels };
}
