/**
 * Progress bars on stderr (cli-progress), for long replays, rebuilds and verifies: position / head, events per
 * second and ETA. The CLI creates one only when stderr is a terminal or `--progress` forces it.
 */
import cliProgress from 'cli-progress';
import type { Writable } from 'node:stream';

/** One progress bar; `update` may be called often (cli-progress redraws at most every 100 ms). */
export class ProgressReporter {
  private bar: cliProgress.SingleBar | undefined;
  private readonly t0 = performance.now();
  private startValue = 0;

  /** @param stream stderr. @param label shown before the bar (`replay`, `rebuild`, `verify`). */
  constructor(
    private readonly stream: Writable,
    private readonly label: string,
  ) {}

  /** Starts (or restarts) the bar at `value` of `total` events. */
  start(total: number, value: number): void {
    this.stop();
    this.startValue = value;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${this.label} |{bar}| {percentage}% | {value}/{total} | {rate} ev/s | ETA {etaText}`,
        hideCursor: false,
        noTTYOutput: true,
        notTTYSchedule: 1000,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(total, value, 1), value, { rate: '0', etaText: '?' });
  }

  /**
   * Moves the bar to `value` of `total`. `rate` (events/s) and `etaSeconds` default to the average since `start`.
   */
  update(value: number, total: number, rate?: number, etaSeconds?: number | null): void {
    if (!this.bar) return;
    const seconds = (performance.now() - this.t0) / 1000;
    const r = rate ?? (seconds > 0 ? (value - this.startValue) / seconds : 0);
    const eta = etaSeconds ?? (r > 0 ? (total - value) / r : null);
    this.bar.setTotal(Math.max(total, value, 1));
    this.bar.update(value, { rate: Math.round(r).toLocaleString('en-US'), etaText: eta === null ? '?' : `${Math.ceil(eta)} s` });
  }

  /** Finishes the bar (idempotent). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
