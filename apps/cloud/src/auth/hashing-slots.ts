import { DomainError } from '@loupe/service';

/** More sign-ins are being checked than the cloud takes at once (HTTP 503 with Retry-After). */
export class SignInBusyError extends DomainError {
  readonly kind = 'unavailable';
  override readonly retryAfterSeconds = 1;
  constructor() {
    super('the cloud is checking too many passwords at once; try again in a second');
  }
}

export interface HashingLimits {
  /** Hashes running at once: each holds 128 MiB and a libuv thread for about 100 ms. */
  concurrent: number;
  /** Hashes waiting for a turn; past that a sign-in is refused at once rather than queued without end. */
  waiting: number;
}

/**
 * Caps password hashing, so a burst of sign-ins costs a bounded amount of
 * memory and leaves libuv's threads (which file I/O shares) free.
 */
export class HashingSlots {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly limits: HashingLimits,
    private readonly onBusy: () => void = () => undefined,
  ) {}

  async run<T>(hash: () => Promise<T>): Promise<T> {
    if (this.running < this.limits.concurrent) this.running++;
    else if (this.queue.length < this.limits.waiting) await new Promise<void>((resolve) => this.queue.push(resolve));
    else {
      this.onBusy();
      throw new SignInBusyError();
    }
    try {
      return await hash();
    } finally {
      // The slot passes straight to the next in line, so `running` never overshoots.
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
