import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { nodeFileSystem } from '../storage/file-system';

export interface OutboxLimits {
  maxBytes: number;
  maxCount: number;
  /**
   * Samples, and their bytes, waiting to be written; beyond either new ones
   * are dropped, so inference never waits on the disk and memory stays bounded.
   */
  maxPendingWrites: number;
  maxPendingBytes: number;
}

/** What the outbox knows about a stored sample without reading it. */
export interface StoredSample {
  id: string;
  /** Higher is more valuable; the outbox sends highest first and evicts lowest first. */
  priority: number;
  capturedAtMs: number;
  bytes: number;
}

/** A sample as its producer describes it; the outbox measures its bytes. */
export type NewSample = Omit<StoredSample, 'bytes'>;

export type OutboxDropReason = 'outbox_full' | 'write_backlog' | 'write_failed';

export interface OutboxEvents {
  /** A sample that will never be sent: the new one refused, or a stored one evicted for it. */
  dropped(sample: StoredSample, reason: OutboxDropReason): void;
}

interface PendingWrite {
  sample: StoredSample;
  payload: Uint8Array;
  resolve(accepted: boolean): void;
}

const READY = 'ready';
const WRITE_GROUP = 32;
const WRITING = 'writing';
const SUFFIX = '.sample';

/**
 * Samples on their way to the cloud, on disk. A sample is accepted only once
 * it is durable, by this discipline:
 *
 * 1. its bytes go to a new file in `writing/`, which is fsync'd and closed;
 * 2. the file is renamed into `ready/` (atomic on one filesystem);
 * 3. `ready/` itself is fsync'd, which makes the rename durable.
 *
 * A file in `ready/` is therefore always complete, and whatever is left in
 * `writing/` after a crash is an unaccepted fragment, deleted on open. The
 * file name carries the priority and capture time, so reopening lists the
 * folder instead of reading every sample. Removing a sent sample is a plain
 * unlink: if power loss brings one back, it is sent again and the cloud
 * ignores the repeat by its id.
 *
 * Writes are queued and committed in groups (one directory fsync per group)
 * off the caller's path; `offer` never waits for the disk.
 */
export class SampleOutbox {
  private readonly waiting: StoredSample[] = [];
  private readonly sending = new Map<string, StoredSample>();
  private storedBytes = 0;
  private readonly writes: PendingWrite[] = [];
  private pendingBytes = 0;
  private writing = false;
  private writer: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly directory: string,
    private readonly limits: OutboxLimits,
    private readonly events: OutboxEvents,
    private readonly log: Logger,
  ) {}

  /** Opens (or creates) the outbox in `directory`, discarding unaccepted fragments of an earlier run. */
  static async open(directory: string, limits: OutboxLimits, events: OutboxEvents, logger: Logger): Promise<SampleOutbox> {
    const outbox = new SampleOutbox(directory, limits, events, logger.child({ component: 'sample-outbox' }));
    await rm(join(directory, WRITING), { recursive: true, force: true });
    await mkdir(join(directory, WRITING), { recursive: true });
    await mkdir(join(directory, READY), { recursive: true });
    for (const name of await readdir(join(directory, READY))) {
      const described = parseFileName(name);
      if (!described) {
        outbox.log.warn({ file: name }, 'ignoring a file the outbox did not write');
        continue;
      }
      const sample = { ...described, bytes: (await stat(join(directory, READY, name))).size };
      outbox.insertWaiting(sample);
      outbox.storedBytes += sample.bytes;
    }
    if (outbox.waiting.length > 0) outbox.log.info({ samples: outbox.waiting.length, bytes: outbox.storedBytes }, 'outbox reopened with unsent samples');
    return outbox;
  }

  get count(): number {
    return this.waiting.length + this.sending.size;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  /** Age of the oldest stored sample, 0 when empty. */
  oldestAgeMs(now = Date.now()): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const sample of this.waiting) oldest = Math.min(oldest, sample.capturedAtMs);
    for (const sample of this.sending.values()) oldest = Math.min(oldest, sample.capturedAtMs);
    return Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0;
  }

  /**
   * Queues a sample for writing and returns at once. The promise says
   * whether it was accepted (durable) or dropped; callers on the inspection
   * path need not wait for it.
   */
  offer(newSample: NewSample, payload: Uint8Array): Promise<boolean> {
    const sample = { ...newSample, bytes: payload.byteLength };
    const behind = this.writes.length >= this.limits.maxPendingWrites || this.pendingBytes + sample.bytes > this.limits.maxPendingBytes;
    if (this.closed || behind) {
      this.events.dropped(sample, 'write_backlog');
      return Promise.resolve(false);
    }
    this.pendingBytes += sample.bytes;
    return new Promise((resolve) => {
      this.writes.push({ sample, payload, resolve });
      if (!this.writing) this.writer = this.writeQueued();
    });
  }

  /**
   * The most valuable samples not yet in flight, in order, as many as fit in
   * `count` and `bytes` (the first always, so no sample is too big to go),
   * now marked in flight. Their files are read side by side, so a sender
   * refilling a window does not wait on one read at a time.
   */
  async take(count: number, bytes = Number.POSITIVE_INFINITY): Promise<Array<{ sample: StoredSample; payload: Buffer }>> {
    const chosen: StoredSample[] = [];
    let chosenBytes = 0;
    const fits = (sample: StoredSample) => chosen.length === 0 || chosenBytes + sample.bytes <= bytes;
    while (chosen.length < count && this.waiting.length > 0 && fits(this.waiting[0]!)) {
      const sample = this.waiting.shift()!;
      chosenBytes += sample.bytes;
      chosen.push(sample);
      this.sending.set(sample.id, sample);
    }
    const read = await Promise.all(
      chosen.map(async (sample) => {
        try {
          return { sample, payload: await readFile(this.pathOf(sample)) };
        } catch (error) {
          // Removed meanwhile (a late ack of an earlier send): already counted out.
          if (!this.sending.delete(sample.id)) return undefined;
          // Gone from disk under us: nothing to send, and nothing to count twice.
          this.storedBytes -= sample.bytes;
          this.log.error({ sampleId: sample.id, err: (error as Error).message }, 'outbox sample unreadable; skipped');
          return undefined;
        }
      }),
    );
    return read.filter((taken): taken is NonNullable<typeof taken> => taken !== undefined && this.sending.has(taken.sample.id));
  }

  /** Puts an in-flight sample back in line (its send failed or was never acknowledged). */
  release(id: string): void {
    const sample = this.sending.get(id);
    if (!sample) return;
    this.sending.delete(id);
    this.insertWaiting(sample);
  }

  /** Forgets samples the cloud has stored (or refused for good). Unknown ids are ignored: acks can repeat. */
  async remove(ids: Iterable<string>): Promise<number> {
    const removed: StoredSample[] = [];
    for (const id of ids) {
      const sample = this.sending.get(id) ?? this.takeWaiting(id);
      if (!sample) continue;
      this.sending.delete(id);
      removed.push(sample);
    }
    await Promise.all(removed.map((sample) => this.deleteFile(sample)));
    return removed.length;
  }

  /** Finishes queued writes; later offers are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writer;
  }

  /**
   * Commits queued writes in groups until none are left. `writing` is
   * cleared before the last group's callers hear back, so an offer they make
   * next starts a new writer instead of joining one that is finishing.
   */
  private async writeQueued(): Promise<void> {
    this.writing = true;
    for (;;) {
      const group = this.writes.splice(0, WRITE_GROUP);
      const written: PendingWrite[] = [];
      const failed: PendingWrite[] = [];
      // The files of a group are written and fsync'd side by side: one
      // fsync at a time could not keep up with a fast line on a busy disk.
      const outcomes = await Promise.allSettled(group.map((write) => this.writeFile(write)));
      outcomes.forEach((outcome, index) => {
        const write = group[index]!;
        this.pendingBytes -= write.payload.byteLength;
        if (outcome.status === 'fulfilled') written.push(write);
        else {
          this.log.error({ sampleId: write.sample.id, err: (outcome.reason as Error).message }, 'outbox write failed; sample dropped');
          failed.push(write);
        }
      });
      if (written.length > 0) {
        try {
          await nodeFileSystem.syncDirectory(join(this.directory, READY));
        } catch (error) {
          // Not durable, so not accepted.
          this.log.error({ err: (error as Error).message }, 'outbox directory sync failed; samples dropped');
          for (const write of written.splice(0)) {
            await unlink(this.pathOf(write.sample)).catch(() => undefined);
            failed.push(write);
          }
        }
      }
      if (this.writes.length === 0) this.writing = false;
      for (const write of failed) {
        this.events.dropped(write.sample, 'write_failed');
        write.resolve(false);
      }
      for (const write of written) write.resolve(this.admit(write.sample));
      if (!this.writing) return;
    }
  }

  private async writeFile({ sample, payload }: PendingWrite): Promise<void> {
    const partial = join(this.directory, WRITING, `${randomUUID()}.partial`);
    const handle = await open(partial, 'wx');
    try {
      await handle.writeFile(payload);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, this.pathOf(sample));
  }

  /**
   * Makes room for a written sample by the stated policy: while over a
   * bound, the least valuable waiting sample goes, unless the new one is
   * itself the least valuable, in which case it goes instead.
   */
  private admit(sample: StoredSample): boolean {
    this.insertWaiting(sample);
    this.storedBytes += sample.bytes;
    while (this.count > this.limits.maxCount || this.storedBytes > this.limits.maxBytes) {
      const victim = this.waiting.pop();
      if (!victim) break;
      this.storedBytes -= victim.bytes;
      this.events.dropped(victim, 'outbox_full');
      this.log.warn({ sampleId: victim.id, priority: victim.priority }, 'outbox full; dropped the least valuable sample');
      void unlink(this.pathOf(victim)).catch(() => undefined);
      if (victim.id === sample.id) return false;
    }
    return true;
  }

  private async deleteFile(sample: StoredSample): Promise<void> {
    this.storedBytes -= sample.bytes;
    await unlink(this.pathOf(sample)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Keeps `waiting` ordered: highest priority first, then oldest first. */
  private insertWaiting(sample: StoredSample): void {
    let low = 0;
    let high = this.waiting.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (comesBefore(this.waiting[middle]!, sample)) low = middle + 1;
      else high = middle;
    }
    this.waiting.splice(low, 0, sample);
  }

  private takeWaiting(id: string): StoredSample | undefined {
    const index = this.waiting.findIndex((sample) => sample.id === id);
    return index === -1 ? undefined : this.waiting.splice(index, 1)[0];
  }

  private pathOf(sample: StoredSample): string {
    return join(this.directory, READY, fileNameOf(sample));
  }
}

function comesBefore(a: StoredSample, b: StoredSample): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.capturedAtMs <= b.capturedAtMs;
}

// <priority as 0-1000000>_<capture ms>_<sample id>.sample
const FILE_NAME = /^(\d{7})_(\d{13,})_([A-Za-z0-9-]{1,64})\.sample$/;

function fileNameOf(sample: StoredSample): string {
  const priority = Math.round(Math.min(1, Math.max(0, sample.priority)) * 1_000_000);
  return `${String(priority).padStart(7, '0')}_${String(Math.round(sample.capturedAtMs)).padStart(13, '0')}_${sample.id}${SUFFIX}`;
}

function parseFileName(name: string): NewSample | undefined {
  const match = FILE_NAME.exec(name);
  if (!match) return undefined;
  return { priority: Number(match[1]) / 1_000_000, capturedAtMs: Number(match[2]), id: match[3]! };
}
