/**
 * Go-live latency benchmark (issue 2). Over several runs, each a fresh broadcast on a platform started exactly as
 * in the end-to-end tests, it measures:
 * - publish → first playable segment: ms from starting the RTMP publisher to the media playlist listing a segment
 *   that answers 200;
 * - `hls.latency` as hls.js reports it in Chromium (s), sampled while playing;
 * - glass-to-glass (ms): the publisher burns the wall clock into each frame (epoch ms mod 1e8, see
 *   `publishTestStream`); the frame on screen, grabbed through a canvas, is read back with tesseract OCR and compared with the
 *   page clock at the grab (same machine, same clock). Program-date-time is not used: ffmpeg stamps it after probing.
 * Writes bench/results/go-live-latency.json and .md with the machine it ran on.
 * Usage: node bench/dist/go-live-latency.js [--runs 5] [--seconds 20]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eventually, launchChromium, publishTestStream, startE2ePlatform, ROOT } from '@eventcast/e2e/harness';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const seconds = Number(values.seconds);

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { n: s.length, min: round(s[0] ?? NaN), median: round(q(0.5)), p90: round(q(0.9)), max: round(s[s.length - 1] ?? NaN), mean: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)) };
}

function ocrClock(png: string): number | null {
  try {
    const out = execFileSync('tesseract', [png, 'stdout', '--psm', '7', '-c', 'tessedit_char_whitelist=0123456789'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const m = /(\d{8})/.exec(out.replace(/\s/g, ''));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function main() {
  const env = await startE2ePlatform({ logLevel: 'info' });
  const browser = await launchChromium();
  const work = mkdtempSync(join(tmpdir(), 'eventcast-bench-'));
  const firstSegmentMs: number[] = [];
  const hlsLatency: number[] = [];
  const glassToGlass: number[] = [];
  const ocrFailures = { count: 0 };
  try {
    const username = `bench_${Date.now().toString(36)}`;
    const reg = await fetch(`${env.platform.urls.commandApi}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'benchmark-password' }),
    });
    const { token } = (await reg.json()) as { token: string };
    const key = ((await (await fetch(`${env.platform.urls.commandApi}/me/stream-key`, { headers: { authorization: `Bearer ${token}` } })).json()) as { streamKey: string }).streamKey;
    const playlistUrl = `${env.platform.urls.hls}/hls/${username}/index.m3u8`;

    for (let run = 1; run <= runs; run++) {
      // The previous broadcast's playlist stays until ingest cleans the directory: measure only a fresh one.
      await eventually('the previous playlist to be removed', async () => (await fetch(playlistUrl)).status === 404, 60_000);
      const t0 = performance.now();
      const pub = publishTestStream(`${env.platform.urls.rtmp}/${key}`, { overlayClock: true });
      await eventually('a playable segment', async () => {
        const r = await fetch(playlistUrl);
        if (!r.ok) return null;
        const seg = (await r.text()).split('\n').find((l) => l.endsWith('.ts') || l.endsWith('.m4s'));
        if (!seg) return null;
        return (await fetch(new URL(seg, playlistUrl))).ok;
      }, 30_000);
      firstSegmentMs.push(performance.now() - t0);

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${env.platform.urls.web}/${username}`);
      await page.getByTestId('live-status').filter({ hasText: 'LIVE' }).waitFor({ timeout: 20_000 });
      await eventually('playback', () => page.evaluate(() => ((document.querySelector<HTMLVideoElement>(`[data-testid="player"]`))?.currentTime ?? 0) > 1), 30_000);
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 1000));
        const lat = await page.evaluate(() => (window as unknown as { __hls?: { latency: number } }).__hls?.latency ?? NaN);
        if (Number.isFinite(lat) && lat > 0) hlsLatency.push(lat);
        const file = join(work, `shot-${run}-${Date.now()}.png`);
        // Grab the frame on screen through a canvas (overlays such as the unmute button are not in it); the clock
        // is drawn in the top-left 55% × 26% of the picture.
        const grab = await page.evaluate(() => {
          const v = document.querySelector('[data-testid="player"]') as HTMLVideoElement;
          const c = document.createElement('canvas');
          const w = Math.round(v.videoWidth * 0.55);
          const h = Math.round(v.videoHeight * 0.26);
          // Twice the size, grey: tesseract reads large dark-on-light or light-on-dark digits best.
          c.width = w * 2;
          c.height = h * 2;
          const ctx = c.getContext('2d');
          if (ctx) {
            ctx.filter = 'grayscale(1)';
            ctx.drawImage(v, 0, 0, w, h, 0, 0, w * 2, h * 2);
          }
          return { at: Date.now(), png: c.toDataURL('image/png') };
        });
        writeFileSync(file, Buffer.from(grab.png.split(',')[1] ?? '', 'base64'));
        const atMs = grab.at;
        const shown = ocrClock(file);
        if (shown === null) {
          ocrFailures.count++;
          continue;
        }
        const delta = (((atMs % 1e8) - shown) + 1e8) % 1e8;
        // hls.js resyncs long before 20 s behind live: anything larger is an OCR misread of a digit.
        if (delta < 20_000) glassToGlass.push(delta);
        else ocrFailures.count++;
      }
      await page.close();
      await pub.stop();
      await eventually('the channel to go offline', async () => {
        const c = (await (await fetch(`${env.platform.urls.queryApi}/channels/${username}`)).json()) as { live: boolean };
        return !c.live;
      }, 30_000);
    }
  } finally {
    await browser.close();
    await env.dispose();
  }

  const ffmpeg = execFileSync('ffmpeg', ['-version']).toString().split('\n')[0] ?? '';
  const chromiumVersion = (() => {
    try {
      return execFileSync('/usr/bin/chromium', ['--version']).toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  const result = {
    benchmark: 'go-live-latency',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, ffmpeg, chromium: chromiumVersion },
    settings: { runs, secondsPerRun: seconds, hlsSegmentSeconds: 1, hlsJs: { lowLatencyMode: true, liveSyncDurationCount: 2 } },
    publishToFirstSegmentMs: stats(firstSegmentMs),
    hlsLatencySeconds: stats(hlsLatency),
    glassToGlassMs: stats(glassToGlass),
    ocrFailures: ocrFailures.count,
    targets: { publishToFirstSegmentMs: 2000, glassToGlassMs: 3000 },
  };
  const dir = join(ROOT, 'bench', 'results');
  writeFileSync(join(dir, 'go-live-latency.json'), `${JSON.stringify(result, null, 2)}\n`);
  const row = (name: string, s: ReturnType<typeof stats>, unit: string) => `| ${name} | ${s.n} | ${s.min} | ${s.median} | ${s.p90} | ${s.max} | ${unit} |`;
  const md = [
    `# Go-live latency — ${result.date}`,
    '',
    `Machine: ${result.machine.cpu} × ${result.machine.cores}, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, ${ffmpeg}, ${chromiumVersion}.`,
    `Settings: ${runs} broadcasts × ${seconds} s, 1 s HLS segments, hls.js lowLatencyMode, liveSyncDurationCount 2.`,
    '',
    '| measure | samples | min | median | p90 | max | unit |',
    '|---|---|---|---|---|---|---|',
    row('publish → first playable segment', result.publishToFirstSegmentMs, 'ms'),
    row('hls.js `hls.latency`', result.hlsLatencySeconds, 's'),
    row('glass-to-glass (burnt-in clock, OCR)', result.glassToGlassMs, 'ms'),
    '',
    `OCR misreads discarded: ${ocrFailures.count}. Targets: first segment ≤ 2000 ms, glass-to-glass ≤ 3000 ms.`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'go-live-latency.md'), md);
  process.stdout.write(`${md}\n`);
}

await main();
