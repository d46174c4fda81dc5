/**
 * Test support: the LL-HLS rules of RFC 8216bis-16 a media playlist must satisfy, checked on the text (tags and
 * attributes read line by line) after hls-parser has parsed it. Each returned string names a broken rule.
 */
import HLS from 'hls-parser';

type Attrs = Record<string, string>;

function attrs(line: string): Attrs {
  const out: Attrs = {};
  const body = line.slice(line.indexOf(':') + 1);
  for (const m of body.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1] ?? ''] = (m[2] ?? '').replace(/^"|"$/g, '');
  return out;
}

/** What a checked media playlist holds, for further assertions. */
export interface MediaPlaylistFacts {
  targetDuration: number;
  partTarget: number;
  mediaSequence: number;
  discontinuitySequence: number;
  /** Complete segments: URI, EXTINF, msn, discontinuity flag, map URI, parts (URI, duration, independent). */
  segments: { uri: string; duration: number; msn: number; discontinuity: boolean; map: string; parts: { uri: string; duration: number; independent: boolean }[] }[];
  /** Parts of the open segment (after the last EXTINF). */
  openParts: { uri: string; duration: number; independent: boolean }[];
  preloadHint: string | null;
  renditionReports: { uri: string; lastMsn: number; lastPart: number }[];
  endlist: boolean;
}

/**
 * Checks `text`. @returns the facts and the violations (empty when every rule holds).
 */
export function checkMediaPlaylist(text: string): { facts: MediaPlaylistFacts; violations: string[] } {
  const v: string[] = [];
  // strictMode: hls-parser throws on the spec rules it knows (e.g. parts older than the last three segments).
  HLS.setOptions({ strictMode: true });
  let parsed: ReturnType<typeof HLS.parse>;
  try {
    parsed = HLS.parse(text);
  } finally {
    HLS.setOptions({ strictMode: false });
  }
  if (parsed.isMasterPlaylist) v.push('parsed as a multivariant playlist');
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '#EXTM3U') v.push('first line is not #EXTM3U');
  const facts: MediaPlaylistFacts = { targetDuration: NaN, partTarget: NaN, mediaSequence: 0, discontinuitySequence: 0, segments: [], openParts: [], preloadHint: null, renditionReports: [], endlist: false };
  let version = 1;
  let serverControl: Attrs | null = null;
  let map = '';
  let pendingParts: MediaPlaylistFacts['openParts'] = [];
  let pendingDisc = false;
  let pendingDuration: number | null = null;
  let hints = 0;
  for (const line of lines) {
    if (line.startsWith('#EXT-X-VERSION:')) version = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) facts.targetDuration = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) facts.mediaSequence = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:')) facts.discontinuitySequence = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) serverControl = attrs(line);
    else if (line.startsWith('#EXT-X-PART-INF:')) facts.partTarget = Number(attrs(line)['PART-TARGET']);
    else if (line.startsWith('#EXT-X-MAP:')) map = attrs(line).URI ?? '';
    else if (line === '#EXT-X-DISCONTINUITY') pendingDisc = true;
    else if (line.startsWith('#EXT-X-PART:')) {
      const a = attrs(line);
      pendingParts.push({ uri: a.URI ?? '', duration: Number(a.DURATION), independent: a.INDEPENDENT === 'YES' });
    } else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      const a = attrs(line);
      hints++;
      if (a.TYPE !== 'PART') v.push('preload hint is not TYPE=PART');
      facts.preloadHint = a.URI ?? null;
    } else if (line.startsWith('#EXTINF:')) pendingDuration = Number(line.slice(8).split(',')[0]);
    else if (line.startsWith('#EXT-X-RENDITION-REPORT:')) {
      const a = attrs(line);
      facts.renditionReports.push({ uri: a.URI ?? '', lastMsn: Number(a['LAST-MSN']), lastPart: Number(a['LAST-PART']) });
    } else if (line === '#EXT-X-ENDLIST') facts.endlist = true;
    else if (!line.startsWith('#')) {
      if (pendingDuration === null) v.push(`URI ${line} without EXTINF`);
      facts.segments.push({ uri: line, duration: pendingDuration ?? NaN, msn: facts.mediaSequence + facts.segments.length, discontinuity: pendingDisc, map, parts: pendingParts });
      pendingParts = [];
      pendingDisc = false;
      pendingDuration = null;
    }
  }
  facts.openParts = pendingParts;
  const td = facts.targetDuration;
  const pt = facts.partTarget;
  if (!(version >= 9)) v.push(`EXT-X-VERSION ${version} < 9`);
  if (!Number.isInteger(td) || td < 1) v.push('EXT-X-TARGETDURATION missing or not a positive integer');
  if (!(pt > 0)) v.push('EXT-X-PART-INF PART-TARGET missing');
  if (!serverControl) v.push('EXT-X-SERVER-CONTROL missing');
  else {
    if (serverControl['CAN-BLOCK-RELOAD'] !== 'YES') v.push('CAN-BLOCK-RELOAD is not YES');
    const phb = Number(serverControl['PART-HOLD-BACK']);
    if (!(phb >= 2 * pt)) v.push(`PART-HOLD-BACK ${phb} < 2 × PART-TARGET ${pt} (§4.4.3.8)`);
    const hb = serverControl['HOLD-BACK'];
    if (hb !== undefined && !(Number(hb) >= 3 * td)) v.push(`HOLD-BACK ${hb} < 3 × TARGETDURATION (§4.4.3.8)`);
  }
  for (const s of facts.segments) {
    if (Math.round(s.duration) > td) v.push(`EXTINF ${s.duration} of ${s.uri} rounds above TARGETDURATION ${td} (§4.4.3.1)`);
    if (!s.map) v.push(`segment ${s.uri} without EXT-X-MAP`);
    if (s.parts.length > 0) {
      const sum = s.parts.reduce((a, p) => a + p.duration, 0);
      if (Math.abs(sum - s.duration) > 0.001) v.push(`parts of ${s.uri} sum to ${sum}, EXTINF ${s.duration}`);
    }
  }
  const allParts = [...facts.segments.flatMap((s) => s.parts), ...facts.openParts];
  for (const p of allParts) if (p.duration > pt + 1e-9) v.push(`part ${p.uri} ${p.duration} s > PART-TARGET ${pt} (§4.4.4.9)`);
  if (!facts.endlist && hints !== 1) v.push(`${hints} preload hints on a live playlist (want 1)`);
  if (facts.endlist && hints !== 0) v.push('preload hint after EXT-X-ENDLIST');
  if (!facts.endlist && allParts.length === 0) v.push('a live LL-HLS playlist without parts');
  const withOpen = facts.segments.length + (facts.openParts.length > 0 ? 1 : 0);
  for (const [i, s] of facts.segments.entries()) if (s.parts.length > 0 && i < withOpen - 3) v.push(`parts listed on ${s.uri}, more than three segments from the end (§4.4.4.9)`);
  if (hints > 0 && facts.preloadHint && allParts.some((p) => p.uri === facts.preloadHint)) v.push('preload hint names a listed part');
  return { facts, violations: v };
}
