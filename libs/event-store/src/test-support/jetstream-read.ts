/**
 * Test helper: reads back what reached JetStream, with an ordered consumer.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM, fromWire, type RecordedEvent } from '@eventcast/events';
import { waitFor as platformWaitFor } from '@eventcast/platform';

/** Messages stored in the events stream (0 when it does not exist yet). */
export async function storedCount(url: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(EVENTS_JETSTREAM).catch(() => undefined);
    return info?.state.messages ?? 0;
  } finally {
    await nc.close();
  }
}

/** Every message of the events stream in stream order, parsed from the wire form, with its msg-id header. */
export async function readBack(url: string): Promise<{ event: RecordedEvent; msgId: string; subject: string }[]> {
  const nc = await connect({ servers: url });
  try {
    const total = await storedCount(url);
    const consumer = await jetstream(nc).consumers.get(EVENTS_JETSTREAM);
    const out: { event: RecordedEvent; msgId: string; subject: string }[] = [];
    while (out.length < total) {
      const m = await consumer.next({ expires: 2000 });
      if (!m) break;
      out.push({ event: fromWire(m.json()), msgId: m.headers?.get('Nats-Msg-Id') ?? '', subject: m.subject });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Polls `check` every 25 ms until it returns true; rejects after `timeoutMs` (`waitFor` of @eventcast/platform). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  await platformWaitFor(check, timeoutMs, what, 25);
}
