import { DomainError } from '@loupe/service';

/** The queue is full: the caller should back off (gRPC RESOURCE_EXHAUSTED). */
export class QueueFullError extends DomainError {
  readonly kind = 'too_many';
  constructor(capacity: number) {
    super(`inference queue is full (${capacity} requests waiting); retry shortly or lower the request rate`);
  }
}

/** The request's deadline passed before inference started (gRPC DEADLINE_EXCEEDED). */
export class DeadlineExceededError extends DomainError {
  readonly kind = 'deadline';
  constructor() {
    super('deadline passed before the request reached the model');
  }
}

export interface BatchSettings {
  /** Largest batch; 1 for models without a dynamic batch dimension. */
  maxBatch: number;
  /** How long the first request of a batch may wait for company while all runners are busy. */
  maxDelayMs: number;
  /** Requests waiting beyond this are refused at once. */
  maxQueue: number;
  /**
   * Batches that may run at once. Two keep the CPU busy while one batch's
   * results are handed back and the next is assembled; ONNX Runtime
   * sessions accept concurrent runs.
   */
  concurrentBatches: number;
}

export interface BatchOutcome<Output> {
  output: Output;
  queueMs: number;
  runMs: number;
  batchSize: number;
}

interface Waiting<Input, Output> {
  input: Input;
  enqueuedAt: number;
  deadline: number;
  resolve(outcome: BatchOutcome<Output>): void;
  reject(error: unknown): void;
}

/**
 * Groups concurrent requests into batches for one model. While a runner is
 * free, a request leaves at once: waiting would only add latency to an idle
 * model. While all runners are busy, requests queue and leave as a full
 * batch, or after maxDelayMs, whichever comes first. Requests whose deadline
 * passed while waiting are answered without running.
 */
export class MicroBatcher<Input, Output> {
  private readonly queue: Waiting<Input, Output>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly settings: BatchSettings,
    private readonly runBatch: (inputs: Input[]) => Promise<Output[]>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Requests waiting or running. */
  get depth(): number {
    return this.queue.length;
  }

  submit(input: Input, deadline = Number.POSITIVE_INFINITY): Promise<BatchOutcome<Output>> {
    if (this.queue.length >= this.settings.maxQueue) return Promise.reject(new QueueFullError(this.settings.maxQueue));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, enqueuedAt: this.now(), deadline, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when nothing is waiting or running. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.queue.length > 0) {
      if (this.running.size > 0) await Promise.race(this.running);
      else this.flush();
    }
  }

  private get runnerFree(): boolean {
    return this.running.size < Math.max(1, this.settings.concurrentBatches);
  }

  private schedule(): void {
    if (this.runnerFree || this.queue.length >= this.settings.maxBatch) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.settings.maxDelayMs);
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.runnerFree || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.settings.maxBatch);
    const run = this.run(batch).finally(() => {
      this.running.delete(run);
      // Requests that queued behind running batches waited long enough.
      if (this.queue.length > 0) this.flush();
    });
    this.running.add(run);
  }

  private async run(batch: Waiting<Input, Output>[]): Promise<void> {
    const started = this.now();
    const live = batch.filter((item) => {
      if (item.deadline > started) return true;
      item.reject(new DeadlineExceededError());
      return false;
    });
    if (live.length === 0) return;
    try {
      const outputs = await this.runBatch(live.map((item) => item.input));
      const runMs = this.now() - started;
      live.forEach((item, index) =>
        item.resolve({ output: outputs[index]!, queueMs: started - item.enqueuedAt, runMs, batchSize: live.length }),
      );
    } catch (error) {
      for (const item of live) item.reject(error);
    }
  }
}
