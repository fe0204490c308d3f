import type { BlobStore } from '../blobs/blob-store';
import type { IncomingSample, LabelingQueue } from '../labeling/labeling-queue';
import type { SampleRecord } from './sample-payload';
import type { SampleRow, SampleRepository } from './sample.repository';

interface Waiting {
  row: SampleRow;
  stored: (inserted: boolean) => void;
  failed: (error: unknown) => void;
}

export interface SampleBatchSettings {
  /** Rows per INSERT at most. */
  maxBatch: number;
  /** Images written to the blob store at once. */
  blobConcurrency: number;
}

/**
 * Makes samples durable in groups: the images of a whole group go to the
 * blob store in parallel, then its rows go to Postgres in one INSERT, and
 * into their project's labeling queue in another, so a
 * busy consumer pays one database round trip and one commit per group
 * instead of per sample. Samples that arrive while a group is being written
 * form the next one; an idle consumer writes a lone sample at once.
 */
export class SampleBatchWriter {
  private waiting: Waiting[] = [];
  private writing: Promise<void> | undefined;

  constructor(
    private readonly samples: SampleRepository,
    private readonly blobs: BlobStore,
    private readonly queue: Pick<LabelingQueue, 'enqueue'>,
    private readonly settings: SampleBatchSettings,
  ) {}

  /**
   * Resolves once the image and the row are both durable: true if this call
   * inserted the row, false if it was there already (a repeat delivery).
   */
  store(sample: SampleRecord, imageKey: string): Promise<boolean> {
    return new Promise((stored, failed) => {
      this.waiting.push({ row: { sample, imageKey }, stored, failed });
      this.writing ??= this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.settings.maxBatch);
      try {
        const inserted = await this.write(group.map((item) => item.row));
        // The same sample twice in one group (a repeat delivery) is inserted
        // once. Postgres returns ids in the canonical lower-case form.
        for (const item of group) item.stored(inserted.delete(item.row.sample.id.toLowerCase()));
      } catch (error) {
        for (const item of group) item.failed(error);
      }
    }
    this.writing = undefined;
  }

  private async write(rows: SampleRow[]): Promise<Set<string>> {
    // A row goes in only after its image is durable, so a stored row vouches
    // for its image: repeat deliveries skip the blob store, and a group pays
    // one lookup instead of a round trip to the store per sample. An image
    // key is written only while its row is absent (again after a crash
    // between the two, with the same bytes), never once the row exists.
    const stored = await this.samples.storedIds(rows.map(({ sample }) => sample.id));
    const fresh = new Map<string, SampleRow>();
    for (const row of rows) {
      const id = row.sample.id.toLowerCase();
      if (!stored.has(id) && !fresh.has(id)) fresh.set(id, row);
    }
    const unstored = [...fresh.values()];
    let next = 0;
    const writeImages = async () => {
      while (next < unstored.length) {
        const { sample, imageKey } = unstored[next++]!;
        await this.blobs.put(imageKey, sample.image, sample.imageMediaType);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.blobConcurrency, unstored.length) }, writeImages));
    const inserted = await this.samples.insertManyIfAbsent(unstored);
    // Repeats too: a crash between the two statements left them unqueued.
    await this.queue.enqueue(rows.map(({ sample }) => toIncoming(sample)));
    return inserted;
  }
}

function toIncoming(sample: SampleRecord): IncomingSample {
  const top = sample.prediction.scores.reduce<{ label: string; score: number } | undefined>(
    (best, score) => (best && best.score >= score.score ? best : score),
    undefined,
  );
  return {
    id: sample.id,
    modelName: sample.modelName,
    predictedClass: top?.label ?? sample.verdict,
    samplerPriority: sample.priority,
    reason: sample.reason,
  };
}
