/**
 * The platform's NATS authorization model (ARCHITECTURE.md invariant 9; docs/contracts.md "NATS: users, permissions,
 * wire form"): one NATS user per app with its own random password and allow lists of exactly the subjects the app
 * needs, rendered as a nats-server configuration file.
 *
 * Mechanism: nats-server `authorization { users = [...] }` with `user`/`password` and per-user
 * `permissions { publish { allow, deny }, subscribe { allow }, allow_responses }` (nats-server 2.9 docs,
 * "Authorization"); the nats.js v3 client and the @nestjs/microservices 12 NATS transport take `user`/`pass`.
 * nats-server's configuration format accepts JSON, so the file is written with `JSON.stringify`.
 *
 * Subject rules (nats.js v3 JetStream API, nats-server 2.9 JetStream API reference):
 * - replies and JetStream API answers go to the app's own inbox prefix (`natsInboxPrefix` of @eventcast/contracts),
 *   which only that app may subscribe to;
 * - the command side answers requests through `allow_responses` (it may publish only to the reply subject of a
 *   request it received, once), not through a wildcard on inboxes;
 * - JetStream API subjects are named per stream and per consumer (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`),
 *   so query-api reaches only its durable consumers and the realtime edge only its ephemeral ordered consumers
 *   (explicit denies keep it off query-api's durables).
 */
import { randomBytes } from 'node:crypto';
import {
  CHANNEL_RESOLVE_SUBJECT,
  NATS_APP_USERS,
  NATS_PASSWORD_ENV,
  NATS_USER_ENV,
  natsInboxPrefix,
  natsPasswordSecretName,
  type NatsAppUser,
} from '@eventcast/contracts';
import { CommandPatterns, EVENTS_JETSTREAM, EVENTS_SUBJECT_PREFIX } from '@eventcast/events';

/** One NATS user's permissions, in nats-server's configuration shape. */
export interface NatsPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  /** May publish to the reply subject of each request it received (once). */
  allow_responses?: boolean;
}

/** Names the permissions are built from (defaults: the apps' defaults of docs/contracts.md). */
export interface NatsTopologyNames {
  /** JetStream stream of the domain events (default `EVENTCAST_EVENTS`). */
  stream: string;
  /** query-api's durable consumers (defaults `query-api-projections`, `query-api-webhooks`). */
  queryApiConsumers: string[];
}

/**
 * The names the apps use when nothing overrides them: the domain-event stream `EVENTCAST_EVENTS` (`EVENTS_JETSTREAM`,
 * @eventcast/events) and query-api's two durable consumers, `query-api-projections` (`QUERY_API_CONSUMER`'s default,
 * apps/query-api/src/config.ts) and `query-api-webhooks` (the webhook dispatcher). The platform's nats.conf is
 * rendered with these; tests that use other names pass their own {@link NatsTopologyNames}.
 */
export const DEFAULT_NATS_TOPOLOGY: NatsTopologyNames = {
  stream: EVENTS_JETSTREAM,
  queryApiConsumers: ['query-api-projections', 'query-api-webhooks'],
};

const INGEST_PATTERNS = [
  CommandPatterns.AuthorizePublish,
  CommandPatterns.BroadcastStart,
  CommandPatterns.BroadcastEnd,
  CommandPatterns.IngestNodeStarted,
  CommandPatterns.HealthSample,
  CommandPatterns.InputRefused,
  // Restream (issue 10 item 7): the enabled targets of a live channel, and their state changes.
  CommandPatterns.RestreamTargets,
  CommandPatterns.RestreamState,
  // Recordings (issue 11 item 1): a broadcast's recording is complete in storage (→ BroadcastRecorded).
  CommandPatterns.BroadcastRecorded,
];
/** What the realtime edge requests: chat sends, audience samples, and channel ids by username (chat without query-api). */
const EDGE_PATTERNS = [CommandPatterns.ChatSend, CommandPatterns.ChatSendBatch, CommandPatterns.AudienceSample, CommandPatterns.AudienceViewersJoined, CHANNEL_RESOLVE_SUBJECT];

/**
 * The permissions of `app`'s NATS user:
 * - `command-api`: subscribes to the command patterns (`ingest.*` of the ingest, `chat.send`, `chat.send-batch`, `audience.*` and
 *   `channels.resolve` of the edge) and answers them (`allow_responses`); publishes the events (`eventcast.events.>`) and ensures the stream
 *   (`$JS.API.INFO`, `$JS.API.STREAM.INFO|CREATE.<stream>`);
 * - `query-api`: only its durable consumers: stream info/create, consumer info/create, pull (`MSG.NEXT`) and acks
 *   (`$JS.ACK.<stream>.<consumer>.>`);
 * - `realtime`: requests `chat.send`, `chat.send-batch`, `audience.sample`, `audience.viewers-joined`, `channels.resolve`; creates, pulls from and deletes
 *   ephemeral ordered consumers of the stream (one per watched channel, filtered `eventcast.events.*.<channel>.*`,
 *   and the directory feed's) and reads single messages (`STREAM.MSG.GET`) — never query-api's durables, never
 *   `ingest.*`, never `eventcast.events.>`, no stream management;
 * - `ingest`: requests the `ingest.*` patterns (publish lifecycle, node start, `ingest.health-sample`,
 *   `ingest.input-refused`, restream targets and states), nothing else.
 * Every app subscribes only to its own inbox prefix.
 */
export function natsPermissions(app: NatsAppUser, names: NatsTopologyNames = DEFAULT_NATS_TOPOLOGY): NatsPermissions {
  const s = names.stream;
  const api = '$JS.API';
  const inbox = `${natsInboxPrefix(app)}.>`;
  const streamInfo = [`${api}.INFO`, `${api}.STREAM.INFO.${s}`];
  switch (app) {
    case 'command-api':
      return {
        publish: { allow: [`${EVENTS_SUBJECT_PREFIX}.>`, ...streamInfo, `${api}.STREAM.CREATE.${s}`] },
        subscribe: { allow: [...INGEST_PATTERNS, ...EDGE_PATTERNS, inbox] },
        allow_responses: true,
      };
    case 'query-api':
      return {
        publish: {
          allow: [
            ...streamInfo,
            `${api}.STREAM.CREATE.${s}`,
            ...names.queryApiConsumers.flatMap((c) => [
              `${api}.CONSUMER.INFO.${s}.${c}`,
              `${api}.CONSUMER.CREATE.${s}.${c}`,
              `${api}.CONSUMER.CREATE.${s}.${c}.>`,
              `${api}.CONSUMER.DURABLE.CREATE.${s}.${c}`,
              `${api}.CONSUMER.MSG.NEXT.${s}.${c}`,
              `$JS.ACK.${s}.${c}.>`,
            ]),
          ],
        },
        subscribe: { allow: [inbox] },
      };
    case 'realtime':
      return {
        publish: {
          allow: [
            ...EDGE_PATTERNS,
            ...streamInfo,
            // The position of the stream's last message when a channel's consumer is made (the `subscribed` frame's).
            `${api}.STREAM.MSG.GET.${s}`,
            // Ordered consumers, filtered per watched channel (`CREATE.<stream>.<name>.<filter>`, docs/design.md).
            `${api}.CONSUMER.CREATE.${s}.*`,
            `${api}.CONSUMER.CREATE.${s}.*.>`,
            `${api}.CONSUMER.INFO.${s}.*`,
            `${api}.CONSUMER.DELETE.${s}.*`,
            `${api}.CONSUMER.MSG.NEXT.${s}.*`,
          ],
          deny: names.queryApiConsumers.flatMap((c) => [
            `${api}.CONSUMER.CREATE.${s}.${c}`,
            `${api}.CONSUMER.CREATE.${s}.${c}.>`,
            `${api}.CONSUMER.INFO.${s}.${c}`,
            `${api}.CONSUMER.DELETE.${s}.${c}`,
            `${api}.CONSUMER.MSG.NEXT.${s}.${c}`,
          ]),
        },
        subscribe: { allow: [inbox] },
      };
    case 'ingest':
      return { publish: { allow: [...INGEST_PATTERNS] }, subscribe: { allow: [inbox] } };
  }
}

/** Password of every app user, by app. */
export type NatsPasswords = Record<NatsAppUser, string>;

/** Fresh random passwords (32 bytes each, base64url: 43 characters, no quoting needed anywhere). */
export function generateNatsPasswords(): NatsPasswords {
  return Object.fromEntries(NATS_APP_USERS.map((app) => [app, randomBytes(32).toString('base64url')])) as NatsPasswords;
}

/**
 * The app passwords held in a secrets map (`NATS_PASSWORD_<APP>` of `natsPasswordSecretName`).
 * @returns the passwords, or null when any is missing (an older secrets file: generate and append them).
 */
export function natsPasswordsFrom(secrets: Record<string, string | undefined>): NatsPasswords | null {
  const out: Partial<NatsPasswords> = {};
  for (const app of NATS_APP_USERS) {
    const p = secrets[natsPasswordSecretName(app)];
    if (!p) return null;
    out[app] = p;
  }
  return out as NatsPasswords;
}

/** The passwords as secrets-file variables: `{ NATS_PASSWORD_<APP>: … }`. */
export function natsSecretsEnv(passwords: NatsPasswords): Record<string, string> {
  return Object.fromEntries(NATS_APP_USERS.map((app) => [natsPasswordSecretName(app), passwords[app]]));
}

/** `NATS_PASSWORD_<APP>=…` lines for the secrets file. */
export function natsSecretLines(passwords: NatsPasswords): string {
  return Object.entries(natsSecretsEnv(passwords)).map(([k, v]) => `${k}=${v}\n`).join('');
}

/**
 * The environment of one app: `env` without any app's NATS password, plus this app's own `NATS_USER` and
 * `NATS_PASSWORD` when `env` holds its password (the web app and unknown names get none).
 * @param app app name as the launcher calls it (`command-api`, `query-api`, `realtime`, `ingest`, `web`).
 */
export function natsEnvFor(app: string, env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const secretNames = new Set(NATS_APP_USERS.map(natsPasswordSecretName));
  for (const [k, v] of Object.entries(env)) if (!secretNames.has(k) && k !== NATS_USER_ENV && k !== NATS_PASSWORD_ENV) out[k] = v;
  const user = NATS_APP_USERS.find((u) => u === app);
  const password = user ? env[natsPasswordSecretName(user)] : undefined;
  if (user && password) {
    out[NATS_USER_ENV] = user;
    out[NATS_PASSWORD_ENV] = password;
  }
  return out;
}

/** What {@link renderNatsConfig} writes. */
export interface NatsServerConfig {
  host: string;
  port: number;
  /** JetStream store directory (absolute). */
  storeDir: string;
  passwords: NatsPasswords;
  /** Extra users with every permission (test servers only: the tests read the stream's raw contents). */
  admins?: { user: string; password: string }[];
  names?: NatsTopologyNames;
  /** Server name in logs and monitoring. */
  serverName?: string;
}

/**
 * Renders the nats-server configuration: listen address, JetStream with its store directory, no anonymous access
 * (every connection must log in as one of the users), one user per app with {@link natsPermissions}.
 */
export function renderNatsConfig(c: NatsServerConfig): string {
  const users: Record<string, unknown>[] = NATS_APP_USERS.map((app) => ({
    user: app,
    password: c.passwords[app],
    permissions: natsPermissions(app, c.names),
  }));
  for (const a of c.admins ?? []) users.push({ user: a.user, password: a.password });
  const conf = {
    server_name: c.serverName ?? 'eventcast',
    host: c.host,
    port: c.port,
    jetstream: { store_dir: c.storeDir },
    authorization: { users },
  };
  return `# Generated by Eventcast (libs/launcher/src/nats-config.ts). Contains passwords: keep private (mode 0600).\n${JSON.stringify(conf, null, 2)}\n`;
}
