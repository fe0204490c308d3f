import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, MicroBatcher, QueueFullError } from './micro-batcher';

function recordingBatcher(settings: { maxBatch: number; maxDelayMs: number; maxQueue: number; concurrentBatches?: number }, runMs = 0) {
  const batches: number[][] = [];
  const batcher = new MicroBatcher<number, number>({ concurrentBatches: 1, ...settings }, async (inputs) => {
    batches.push(inputs);
    if (runMs > 0) await new Promise((resolve) => setTimeout(resolve, runMs));
    return inputs.map((value) => value * 10);
  });
  return { batcher, batches };
}

describe('MicroBatcher', () => {
  it('answers each request with its own output', async () => {
    const { batcher } = recordingBatcher({ maxBatch: 4, maxDelayMs: 5, maxQueue: 16 });
    const outcomes = await Promise.all([1, 2, 3].map((value) => batcher.submit(value)));
    expect(outcomes.map((outcome) => outcome.output)).toEqual([10, 20, 30]);
  });

  it('runs a request at once while the model is idle', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 4, maxDelayMs: 10_000, maxQueue: 16 });
    await batcher.submit(1);
    expect(batches).toEqual([[1]]);
  });

  it('sends a full batch without waiting for the delay while the model is busy', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 2, maxDelayMs: 10_000, maxQueue: 16 }, 20);
    const outcomes = await Promise.all([1, 2, 3].map((value) => batcher.submit(value)));
    expect(batches).toEqual([[1], [2, 3]]);
    expect(outcomes.map((outcome) => outcome.batchSize)).toEqual([1, 2, 2]);
  });

  it('runs up to concurrentBatches batches at once', async () => {
    let running = 0;
    let most = 0;
    const batcher = new MicroBatcher<number, number>({ maxBatch: 1, maxDelayMs: 1, maxQueue: 16, concurrentBatches: 2 }, async (inputs) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      return inputs;
    });
    await Promise.all([1, 2, 3, 4].map((value) => batcher.submit(value)));
    expect(most).toBe(2);
  });

  it('collects requests that arrive while a batch runs into the next batch', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 8, maxDelayMs: 1, maxQueue: 16 }, 30);
    const first = batcher.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const rest = [2, 3, 4].map((value) => batcher.submit(value));
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('refuses requests beyond the queue bound at once', async () => {
    const { batcher } = recordingBatcher({ maxBatch: 1, maxDelayMs: 1, maxQueue: 2 }, 20);
    // The first runs at once; the next two wait and fill the queue.
    const accepted = [batcher.submit(1), batcher.submit(2), batcher.submit(3)];
    await expect(batcher.submit(4)).rejects.toThrow(QueueFullError);
    await Promise.all(accepted);
  });

  it('answers a request whose deadline passed without running it', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 1, maxDelayMs: 1, maxQueue: 8 }, 30);
    const running = batcher.submit(1);
    const late = batcher.submit(2, performance.now() + 5);
    await expect(late).rejects.toThrow(DeadlineExceededError);
    await running;
    expect(batches).toEqual([[1]]);
  });

  it('fails every request of a batch whose run fails, and keeps serving', async () => {
    let failures = 2;
    const batcher = new MicroBatcher<number, number>({ maxBatch: 2, maxDelayMs: 1, maxQueue: 8, concurrentBatches: 1 }, (inputs) => {
      if (failures-- > 0) return Promise.reject(new Error('session failed'));
      return Promise.resolve(inputs);
    });
    const failed = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.submit(3)).resolves.toMatchObject({ output: 3 });
  });

  it('reports idle once everything submitted has finished', async () => {
    const { batcher } = recordingBatcher({ maxBatch: 4, maxDelayMs: 50, maxQueue: 8 }, 5);
    const pending = [batcher.submit(1), batcher.submit(2)];
    await batcher.idle();
    expect(batcher.depth).toBe(0);
    await Promise.all(pending);
  });
});
