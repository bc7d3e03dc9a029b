// When a crashed server is started again. Pure: the clock is a parameter.
//
// Crashes are counted over a sliding window; the n-th crash in the window waits the n-th
// delay (the last one repeats), and past `maxCrashes` the extension gives up until the
// user restarts it. A server that ran longer than the window starts the count afresh.

export interface BackoffPolicy {
  /** The wait before restart number 1, 2, ... (the last one repeats). */
  delaysMs: number[];
  /** Crashes older than this no longer count. */
  windowMs: number;
  /** More crashes than this in the window: give up. */
  maxCrashes: number;
}

export const DEFAULT_POLICY: BackoffPolicy = {
  delaysMs: [1_000, 2_000, 4_000, 8_000, 16_000],
  windowMs: 3 * 60_000,
  maxCrashes: 5,
};

export type Decision = { action: 'restart'; delayMs: number; crashes: number } | { action: 'give-up'; crashes: number };

export class CrashTracker {
  private crashes: number[] = [];

  constructor(
    private readonly policy: BackoffPolicy = DEFAULT_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a crash and decides what follows. */
  recordCrash(): Decision {
    const now = this.now();
    this.crashes = this.crashes.filter((at) => now - at < this.policy.windowMs);
    this.crashes.push(now);
    const count = this.crashes.length;
    if (count > this.policy.maxCrashes) {
      return { action: 'give-up', crashes: count };
    }
    const delays = this.policy.delaysMs;
    return { action: 'restart', delayMs: delays[Math.min(count, delays.length) - 1], crashes: count };
  }

  /** Forgets the crashes (a restart the user asked for). */
  reset(): void {
    this.crashes = [];
  }
}

/** The delays a crash loop goes through, for documentation and tests. */
export function schedule(policy: BackoffPolicy = DEFAULT_POLICY): number[] {
  return Array.from({ length: policy.maxCrashes }, (_, i) => policy.delaysMs[Math.min(i, policy.delaysMs.length - 1)]);
}
