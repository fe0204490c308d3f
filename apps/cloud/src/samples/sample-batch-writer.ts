import { GroupCommit } from '@loupe/service';
import { Inject, Injectable } from '@nestjs/common';
import { BlobConflictError, type BlobStore } from '../blobs/blob-store';
import { BLOB_STORE } from '../infrastructure.tokens';
import { judgeAgainstStored, placeInGroup, type GroupPlace, type StoredIdentity } from './sample-identity';
import type { SampleRecord, SampleRejection } from './sample-payload';
import { SampleRepository, type SampleRow } from './sample.repository';
import { SampleStoredEvents } from './sample-stored.events';
import { classifyStorageFailure } from './storage-failure';

/** What became of one sample handed to the writer. */
export type StoreOutcome = { kind: 'stored' } | { kind: 'duplicate' } | { kind: 'refused'; reason: SampleRejection; detail: string };

export interface SampleBatchSettings {
  /** Rows per INSERT at most. */
  maxBatch: number;
  /** Images written to the blob store at once. */
  blobConcurrency: number;
}

// 128 rows keep one INSERT well under Postgres's parameter limit; 16 image
// writes at once keep a slow object store busy without flooding it.
const INGEST_BATCH: SampleBatchSettings = { maxBatch: 128, blobConcurrency: 16 };

/**
 * Makes samples durable in groups (a GroupCommit): the images of a whole
 * group go to the blob store side by side, then its rows go to Postgres in
 * one INSERT, and then 'sample stored' goes out for the group
 * (SampleStoredEvents: the labeling queue enqueues them in one statement),
 * so a busy consumer pays one database round trip and one commit per group
 * instead of per sample. Samples that arrive while a group is being written form the
 * next one; an idle consumer writes a lone sample at once.
 *
 * One sample cannot fail the others. The blob store's refusal of one image
 * refuses that sample alone. A group whose INSERT the database refuses for
 * its content (a value no check caught) is written again sample by sample,
 * so the one at fault is refused and the rest are stored. Only failures of
 * the cloud's own services (classifyStorageFailure) fail the whole group.
 */
@Injectable()
export class SampleBatchWriter {
  private readonly groups: GroupCommit<SampleRow, StoreOutcome>;

  constructor(
    @Inject(SampleRepository) private readonly samples: SampleRepository,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(SampleStoredEvents) private readonly events: Pick<SampleStoredEvents, 'publish'>,
    private readonly settings: SampleBatchSettings = INGEST_BATCH,
  ) {
    this.groups = new GroupCommit((rows) => this.write(rows), {
      maxGroup: settings.maxBatch,
      concurrency: 1,
      retryAlone: (error) => classifyStorageFailure(error) !== 'infrastructure',
    });
  }

  /**
   * Resolves once the image and the row are both durable (`stored`, or
   * `duplicate` for a repeat of a stored sample), or with the reason the
   * sample can never be stored; rejects when it could not be stored now.
   */
  store(sample: SampleRecord, imageKey: string): Promise<StoreOutcome> {
    return this.groups.add({ sample, imageKey });
  }

  private async write(rows: SampleRow[]): Promise<StoreOutcome[]> {
    // A row goes in only after its image is durable, so a stored row vouches
    // for its image: repeat deliveries skip the blob store, and a group pays
    // one lookup instead of a round trip to the store per sample. Keys are
    // write-once: a key written before a crash took the row with it is
    // written again only with the same bytes.
    const places = placeInGroup(
      rows.map(({ sample }) => sample),
      await this.samples.storedIdentities(rows.map(({ sample }) => sample.id)),
    );
    const outcomes = places.map(settledOutcome);
    const fresh = places.flatMap((place, index) => (place.kind === 'fresh' ? [index] : []));
    await this.writeImages(rows, fresh, outcomes);
    const insertable = fresh.filter((index) => outcomes[index] === undefined);
    const inserted = await this.samples.insertManyIfAbsent(insertable.map((index) => rows[index]!));
    // Not inserted: the same id went in meanwhile (another replica, or
    // another connection of this one); judge it against that row now.
    const raced = new Set(insertable.filter((index) => !inserted.has(rows[index]!.sample.id.toLowerCase())));
    const racedRows = raced.size === 0 ? new Map<string, StoredIdentity>() : await this.samples.storedIdentities([...raced].map((index) => rows[index]!.sample.id));
    for (const index of insertable) outcomes[index] = raced.has(index) ? raceOutcome(rows[index]!.sample, racedRows) : { kind: 'stored' };
    places.forEach((place, index) => {
      if (place.kind === 'repeat') outcomes[index] = repeatOutcome(outcomes[place.of]!);
    });
    const done = outcomes as StoreOutcome[];
    // Repeats too: a crash after the INSERT left their listeners' work undone.
    // Awaited before any outcome resolves, so no sample is acknowledged before its listeners are done.
    await this.events.publish(rows.filter((_, index) => done[index]!.kind !== 'refused').map(({ sample }) => sample)).catch((error: unknown) => {
      // The rows are stored: what a listener ran into is not a fault of their
      // content, so it never refuses them at once (at worst it is of no known kind).
      throw classifyStorageFailure(error) === 'infrastructure' ? error : new Error(`stored samples not handed on: ${(error as Error).message}`, { cause: error });
    });
    return done;
  }

  /** Writes the images of `indexes`, at most blobConcurrency at once; an image the store refuses refuses its sample. */
  private async writeImages(rows: SampleRow[], indexes: number[], outcomes: (StoreOutcome | undefined)[]): Promise<void> {
    let next = 0;
    const writeNext = async () => {
      while (next < indexes.length) {
        const index = indexes[next++]!;
        const { sample, imageKey } = rows[index]!;
        try {
          await this.blobs.put(imageKey, sample.image, sample.imageMediaType);
        } catch (error) {
          if (classifyStorageFailure(error) !== 'content') throw error;
          outcomes[index] = { kind: 'refused', reason: error instanceof BlobConflictError ? 'id_conflict' : 'invalid', detail: (error as Error).message };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.blobConcurrency, indexes.length) }, writeNext));
  }
}

function settledOutcome(place: GroupPlace): StoreOutcome | undefined {
  if (place.kind === 'duplicate') return { kind: 'duplicate' };
  if (place.kind === 'conflict') return { kind: 'refused', reason: 'id_conflict', detail: place.detail };
  return undefined;
}

function raceOutcome(sample: SampleRecord, stored: ReadonlyMap<string, StoredIdentity>): StoreOutcome {
  const verdict = judgeAgainstStored(sample, stored.get(sample.id.toLowerCase()));
  if (verdict.kind === 'conflict') return { kind: 'refused', reason: 'id_conflict', detail: verdict.detail };
  if (verdict.kind === 'duplicate') return verdict;
  // ON CONFLICT skipped the row, yet none is there: it was deleted between the two statements.
  throw new Error(`sample ${sample.id} was neither inserted nor found stored`);
}

/** A repeat within a group stores nothing of its own: stored by its first delivery means a duplicate for it. */
function repeatOutcome(first: StoreOutcome): StoreOutcome {
  return first.kind === 'stored' ? { kind: 'duplicate' } : first;
}
