/**
 * The live media store's segment cut rule and the playlists it yields, with synthetic parts (the store does not read
 * the bytes): keyframe-aligned segments for 1-s and 2-s GOPs at the same part cadence, the force cut when keyframes
 * never come, the window bound, and the multivariant playlist's order and measured bandwidth.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import HLS from 'hls-parser';
import { checkMediaPlaylist } from '../test-support/ll-hls-rules.js';
import { renderMediaPlaylist, renderMultivariantPlaylist } from './playlist.js';
import { LiveMediaStore } from './store.js';

const desc = (name: string, bandwidth: number, width: number) => ({ name, codecs: 'avc1.64001f,mp4a.40.2', width, height: (width * 9) / 16, frameRate: 30, bandwidth, transcoded: name !== 'source' });

/** Feeds `count` parts of 0.2 s, a keyframe every `gopParts` parts (never when 0), `bytes` each. */
function feed(store: LiveMediaStore, username: string, rendition: string, count: number, gopParts: number, bytes = 1000): void {
  const r = store.open(username).rendition(rendition);
  if (r.gen < 0) r.init(Buffer.from('init'), desc(rendition, 1_000_000, 1280));
  for (let i = 0; i < count; i++) {
    const n = r.nextPartN;
    r.part({ data: Buffer.alloc(bytes, n), durationSeconds: 0.2, independent: gopParts > 0 ? n % gopParts === 0 : n === 0, programDateTimeMs: 1_800_000_000_000 + n * 200 });
  }
}

void describe('live media store', () => {
  void it('cuts segments at keyframes: a 1-s GOP gives 1-s segments, a 2-s GOP 2-s segments, parts every 0.2 s in both', () => {
    for (const [gopParts, seconds] of [[5, 1], [10, 2]] as const) {
      const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
      feed(store, 'alice', 'source', 61, gopParts);
      const r = store.channel('alice')?.renditions.get('source');
      assert.ok(r);
      const text = renderMediaPlaylist(r);
      assert.ok(text);
      const { facts, violations } = checkMediaPlaylist(text);
      assert.deepEqual(violations, []);
      assert.equal(facts.targetDuration, 2);
      for (const s of facts.segments) {
        assert.equal(s.duration, seconds);
        assert.equal(s.parts.length === 0 || s.parts[0]?.independent, true);
      }
      assert.equal(facts.openParts.length, 1);
      assert.equal(facts.openParts[0]?.independent, true);
    }
  });

  void it('force-cuts before EXTINF would round above the target duration when keyframes never come', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    feed(store, 'bob', 'source', 60, 0);
    const r = store.channel('bob')?.renditions.get('source');
    assert.ok(r);
    const { facts, violations } = checkMediaPlaylist(renderMediaPlaylist(r) ?? '');
    assert.deepEqual(violations, []);
    for (const s of facts.segments) assert.ok(Math.round(s.duration) <= facts.targetDuration && s.duration >= 2, `${s.duration}`);
  });

  void it('keeps memory bounded by the window and never reuses a media sequence number', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    feed(store, 'carol', 'source', 5 * 200, 5, 10_000);
    const r = store.channel('carol')?.renditions.get('source');
    assert.ok(r);
    assert.equal(r.segments.length, 6);
    assert.equal(r.segments.filter((s) => !s.partsDropped).length, 2);
    assert.equal(r.segments[0]?.msn, 193);
    const kept = r.segments.reduce((a, s) => a + (s.bytes?.length ?? 0) + s.parts.reduce((b, p) => b + p.data.length, 0), 0);
    assert.ok(kept <= 10 * 5 * 10_000, `${kept} bytes kept`);
    assert.equal(r.inits.size, 1);
  });

  void it('after a packager restart, announces the discontinuity with the hint before the new run’s first part', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    feed(store, 'erin', 'source', 12, 5);
    const r = store.channel('erin')?.renditions.get('source');
    assert.ok(r);
    r.init(Buffer.from('init2'), desc('source', 1_000_000, 1280));
    // hls.js predicts the segment after the playlist's tail with the discontinuity count at the end of the playlist
    // (m3u8-parser.ts fragmentHint): the tail must carry the discontinuity and the new map before the next part exists.
    const interim = renderMediaPlaylist(r) ?? '';
    const { violations } = checkMediaPlaylist(interim);
    assert.deepEqual(violations, []);
    const pending = r.pendingSegment();
    assert.ok(pending);
    const hint = r.partUri(r.nextPartN);
    assert.match(interim, new RegExp(`\\n${r.segmentUri(pending.msn - 1)}\\n#EXT-X-DISCONTINUITY\\n#EXT-X-MAP:URI="${r.initUri(1)}"\\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hint}"\\n?$`));
    // The hinted part opens that segment, with that discontinuity.
    r.part({ data: Buffer.alloc(100, 1), durationSeconds: 0.2, independent: true, programDateTimeMs: 1_800_000_010_000 });
    assert.equal(r.pendingSegment(), null);
    assert.equal(r.open?.msn, pending.msn);
    assert.equal(r.open?.discontinuity, true);
    assert.equal(r.open?.discontinuitySequence, pending.discontinuitySequence);
    assert.equal(r.partUri(r.open?.parts[0]?.n ?? -1), hint);
    r.end();
    assert.equal(r.pendingSegment(), null);
  });

  void it('writes the multivariant playlist highest BANDWIDTH first from the measured segments', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    feed(store, 'dave', 'source', 11, 5, 2000);
    feed(store, 'dave', 'low', 11, 5, 500);
    const ch = store.channel('dave');
    assert.ok(ch);
    const mv = HLS.parse(renderMultivariantPlaylist(ch) ?? '') as InstanceType<typeof HLS.types.MasterPlaylist>;
    assert.deepEqual(mv.variants.map((v) => v.uri), ['source.m3u8', 'low.m3u8']);
    assert.deepEqual(mv.variants.map((v) => v.bandwidth), [2000 * 8 * 5, 500 * 8 * 5]);
    assert.equal(mv.variants[0]?.frameRate, 30);
    assert.equal(mv.variants[0]?.resolution?.width, 1280);
  });

  void it('writes EXT-X-INDEPENDENT-SEGMENTS only while every segment in the window starts with a keyframe', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, windowSegments: 3 });
    feed(store, 'fay', 'source', 16, 5); // 1-s GOP: keyframe-aligned segments
    feed(store, 'fay', 'low', 16, 5);
    const ch = store.channel('fay')!;
    const src = ch.renditions.get('source')!;
    const tag = /^#EXT-X-INDEPENDENT-SEGMENTS$/m;
    assert.match(renderMediaPlaylist(src) ?? '', tag);
    assert.match(renderMultivariantPlaylist(ch) ?? '', tag);
    // Keyframes stop: 2.6 s later a segment is force-cut and the next starts with a dependent part.
    const r = store.open('fay').rendition('source');
    for (let i = 0; i < 14; i++) r.part({ data: Buffer.alloc(10), durationSeconds: 0.2, independent: false, programDateTimeMs: 0 });
    assert.equal(src.segmentsIndependent(), false);
    assert.doesNotMatch(renderMediaPlaylist(src) ?? '', tag);
    assert.match(renderMediaPlaylist(ch.renditions.get('low')!) ?? '', tag, 'the other rendition is unaffected');
    assert.doesNotMatch(renderMultivariantPlaylist(ch) ?? '', tag, 'the multivariant claims it for every rendition');
    // Keyframes again: once the force-cut segment left the window (3 segments), the tag returns.
    feed(store, 'fay', 'source', 40, 5);
    assert.match(renderMediaPlaylist(src) ?? '', tag);
    assert.match(renderMultivariantPlaylist(ch) ?? '', tag);
  });

  void it('a closed channel is forgotten after the delay; reopening starts a new epoch', async () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    feed(store, 'erin', 'source', 6, 5);
    const first = store.channel('erin')?.epoch;
    store.close('erin', 20);
    assert.equal(store.channel('erin')?.ended, true);
    assert.ok(store.latestKeyframe('erin') === null);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(store.channel('erin'), undefined);
    assert.notEqual(store.open('erin').epoch, first);
  });
});
