export interface WakeableLoopOptions {
  /** Called with what a turn threw; the loop goes on. */
  onError: (error: unknown) => void;
  /** How long to sleep after a turn that threw (default: until woken). */
  retryAfterErrorMs?: number;
}

/**
 * Runs `turn` again and again until stopped. After each turn it sleeps for
 * the milliseconds the turn returned (Infinity: until woken), cut short by
 * wake(). A wake that comes while a turn runs is kept: the next sleep is
 * skipped, so a change noticed mid-turn is never left waiting.
 */
export class WakeableLoop {
  private running: Promise<void> | undefined;
  private stopping = false;
  private woken = false;
  private wakeSleeper: (() => void) | undefined;

  constructor(
    private readonly turn: () => Promise<number>,
    private readonly options: WakeableLoopOptions,
  ) {}

  get stopped(): boolean {
    return this.stopping;
  }

  /** Starts the loop; a second call does nothing. */
  start(): void {
    if (this.stopping) return;
    this.running ??= this.run();
  }

  /** Ends the current sleep at once, or the next one if a turn is running. */
  wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  /** Stops after the current turn, and resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      let delayMs: number;
      try {
        delayMs = await this.turn();
      } catch (error) {
        this.options.onError(error);
        delayMs = this.options.retryAfterErrorMs ?? Number.POSITIVE_INFINITY;
      }
      if (!this.woken && !this.stopping && delayMs > 0) await this.sleep(delayMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      if (Number.isFinite(ms)) timer = setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }
}
