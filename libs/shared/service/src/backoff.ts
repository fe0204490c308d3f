export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Source of randomness in [0, 1); injected so tests are repeatable. */
  random?: () => number;
}

/**
 * Capped exponential backoff with full jitter: attempt n waits a random time
 * in [0, min(max, initial * 2^n)). Jitter keeps a fleet that lost its broker
 * at the same moment from reconnecting in lockstep.
 */
export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    if (options.initialMs <= 0 || options.maxMs < options.initialMs) {
      throw new Error('Backoff needs 0 < initialMs <= maxMs');
    }
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call doubles the ceiling. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 52);
    return Math.floor(this.random() * ceiling);
  }

  /** Called after a success, so the next failure starts small again. */
  reset(): void {
    this.attempt = 0;
  }
}
