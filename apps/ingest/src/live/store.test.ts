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
      const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, startupSegmentSeconds: Infinity });
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
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, startupSegmentSeconds: Infinity });
    feed(store, 'bob', 'source', 60, 0);
    const r = store.channel('bob')?.renditions.get('source');
    assert.ok(r);
    const { facts, violations } = checkMediaPlaylist(renderMediaPlaylist(r) ?? '');
    assert.deepEqual(violations, []);
    for (const s of facts.segments) assert.ok(Math.round(s.duration) <= facts.targetDuration && s.duration >= 2, `${s.duration}`);
  });

  void it('keeps memory bounded by the window and never reuses a media sequence number', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, startupSegmentSeconds: Infinity });
    feed(store, 'carol', 'source', 5 * 200, 5, 10_000);
    const r = store.channel('carol')?.renditions.get('source');
    assert.ok(r);
    assert.equal(r.segments.length, 6);
    assert.equal(r.segments.filter((s) => !s.partsDropped).length, 2);
    assert.equal(r.segments[0]?.msn, 193);
    const kept = r.segments.reduce((a, s) => a + (s.bytes?.length ?? 0) + s.chunks.reduce((b, c) => b + c.length, 0) + s.parts.reduce((b, p) => b + p.data.length, 0), 0);
    assert.ok(kept <= 10 * 5 * 10_000, `${kept} bytes kept`);
    assert.equal(r.inits.size, 1);
  });

  void it('after a packager restart, announces the discontinuity with the hint before the new run’s first part', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, startupSegmentSeconds: Infinity });
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
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, startupSegmentSeconds: Infinity });
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
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, windowSegments: 3, startupSegmentSeconds: Infinity });
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

  void it('start-up segment: a run\'s first segment closes with its first part, the next ends at the next keyframe', () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2 });
    const tag = /#EXT-X-INDEPENDENT-SEGMENTS/;
    // One part of a 2-s GOP: a complete 0.2-s segment at once (hls.js starts only on a complete segment) and the hint
    // of the next part, with no open segment.
    feed(store, 'gus', 'source', 1, 10);
    const r = store.channel('gus')?.renditions.get('source');
    assert.ok(r);
    let checked = checkMediaPlaylist(renderMediaPlaylist(r) ?? '');
    assert.deepEqual(checked.violations, []);
    assert.deepEqual(checked.facts.segments.map((s) => [s.msn, s.duration, s.parts.length]), [[0, 0.2, 1]]);
    assert.equal(checked.facts.openParts.length, 0);
    assert.equal(checked.facts.preloadHint, r.partUri(1));
    assert.equal(r.pendingSegment()?.discontinuity, false);
    assert.equal(r.measuredBandwidth(), null, 'a start-up segment says nothing about the bit rate');
    // The rest of the first GOP is one segment that ends at the next keyframe (part 10), shorter than a GOP.
    feed(store, 'gus', 'source', 30, 10);
    checked = checkMediaPlaylist(renderMediaPlaylist(r) ?? '');
    assert.deepEqual(checked.violations, []);
    assert.deepEqual(checked.facts.segments.map((s) => [s.msn, Math.round(s.duration * 10) / 10]), [[0, 0.2], [1, 1.8], [2, 2], [3, 2]]);
    assert.equal(r.segments[1]?.startsIndependent, false);
    assert.ok(r.segments.slice(2).every((s) => s.startsIndependent));
    assert.doesNotMatch(renderMediaPlaylist(r) ?? '', tag, 'segment 1 starts without a keyframe');
    const peak = r.measuredBandwidth()?.peak ?? 0;
    assert.ok(Math.abs(peak - (10 * 1000 * 8) / 2) <= 1, `the peak (${peak} b/s) leaves the start-up segment out`);
    // A packager restart starts a new run: again a short first segment, after the discontinuity.
    r.init(Buffer.from('init2'), desc('source', 1_000_000, 1280));
    const before = r.segments.length;
    r.part({ data: Buffer.alloc(1000), durationSeconds: 0.2, independent: true, programDateTimeMs: 1_800_000_100_000 });
    assert.equal(r.segments.length, before + 1);
    assert.equal(r.segments.at(-1)?.discontinuity, true);
    assert.equal(r.segments.at(-1)?.durationSeconds, 0.2);
    assert.deepEqual(checkMediaPlaylist(renderMediaPlaylist(r) ?? '').violations, []);
    // Once both short segments left the window, every segment starts with a keyframe again.
    for (let i = 0; i < 80; i++) r.part({ data: Buffer.alloc(1000), durationSeconds: 0.2, independent: i % 10 === 9, programDateTimeMs: 1_800_000_100_200 + i * 200 });
    assert.match(renderMediaPlaylist(r) ?? '', tag);
    // Whole-segment bytes are made on first request, from the parts.
    const seg = r.segments.at(-1);
    assert.ok(seg);
    assert.equal(seg.bytes, null);
    assert.equal(r.segmentBytes(seg).length, seg.byteLength);
    assert.equal(r.segmentBytes(seg), r.segmentBytes(seg), 'made once');
  });

  void it('a closed channel is forgotten after the delay; reopening starts a new epoch', async () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: 0.2, startupSegmentSeconds: Infinity });
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
