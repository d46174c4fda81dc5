/**
 * Reads `GET /admin/health` of the ingest nodes (apps/ingest/src/admin-health.ts) for `GET /admin/broadcasts`. The
 * caller's own admin bearer token is forwarded (ingest checks it against the same `JWT_SECRET` and admin list).
 * Every answer is validated with the contract (`ingestHealthReportSchema` of @eventcast/contracts). A node that is
 * down, slow (> {@link INGEST_TIMEOUT_MS}), answers an error or answers something else than the contract's report is
 * reported with the reason, never thrown; the other nodes are read all the same.
 */
import { ingestHealthReportSchema, type BroadcastIngestHealth, type IngestHealthReport, type IngestNodeStatus } from '@eventcast/contracts';

/** How long one ingest node may take to answer, ms. */
export const INGEST_TIMEOUT_MS = 2000;

/** What the nodes said: each node's outcome, and the channels by channel id. */
export interface IngestHealthSnapshot {
  /** One per `INGEST_URL`, in that order. */
  nodes: IngestNodeStatus[];
  /** By channel id: the reporting node's health of the channel (the whole packager status) and its broadcast id. */
  channels: Map<string, BroadcastIngestHealth & { broadcastId: string | null }>;
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

/** A zod issue in words: `<path>: <message>` (e.g. `channels.0.packager.mode: Invalid option: …`), or the message at the root. */
export function describeIssue(issue: { path: readonly PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'not an ingest health report';
  return issue.path.length > 0 ? `${issue.path.map((p) => String(p)).join('.')}: ${issue.message}` : issue.message;
}

async function readNode(url: string, authorization: string): Promise<{ node: IngestNodeStatus; report: IngestHealthReport | null }> {
  try {
    const res = await fetch(`${url}/admin/health`, { headers: { authorization, accept: 'application/json' }, signal: AbortSignal.timeout(INGEST_TIMEOUT_MS) });
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const message = typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string' ? body.message : res.statusText;
      return { node: { url, ingestId: null, reachable: true, error: `HTTP ${res.status}: ${message}` }, report: null };
    }
    const parsed = ingestHealthReportSchema.safeParse(body);
    if (!parsed.success) {
      return { node: { url, ingestId: null, reachable: true, error: `unexpected answer (${describeIssue(parsed.error.issues[0])})` }, report: null };
    }
    return { node: { url, ingestId: parsed.data.ingestId, reachable: true, error: null }, report: parsed.data };
  } catch (err) {
    return { node: { url, ingestId: null, reachable: false, error: describeError(err) }, report: null };
  }
}

/**
 * Asks every node at once. A channel reported by two nodes keeps the later node's report (in `urls` order).
 * @param urls ingest base URLs (`INGEST_URL`). @param authorization the caller's `Authorization` header value.
 */
export async function readIngestHealth(urls: readonly string[], authorization: string): Promise<IngestHealthSnapshot> {
  const answers = await Promise.all(urls.map((u) => readNode(u, authorization)));
  const channels = new Map<string, BroadcastIngestHealth & { broadcastId: string | null }>();
  for (const { report } of answers) {
    if (!report) continue;
    for (const c of report.channels) {
      channels.set(c.channelId, {
        ingestId: report.ingestId,
        broadcastId: c.broadcastId,
        connected: c.connected,
        publishingSince: c.publishingSince,
        input: c.input,
        packager: c.packager,
      });
    }
  }
  return { nodes: answers.map((a) => a.node), channels };
}
