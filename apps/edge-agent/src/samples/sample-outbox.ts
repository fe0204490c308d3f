import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isDiskFull } from '../storage/disk-full';
import { fitWithinReserve } from '../storage/disk-reserve';
import { makeDirectoryDurably } from '../storage/durable-files';
import { nodeFileSystem, type FileSystem } from '../storage/file-system';
import { fileNameOf, insertInSendingOrder, OUTBOX_SAMPLE_ID, parseFileName, type InFlightWindow, type NewSample, type StoredSample } from './outbox-files';
import { OutboxQuarantine, type QuarantineLimits, type QuarantineReason } from './outbox-quarantine';

export type { InFlightWindow, NewSample, StoredSample } from './outbox-files';
export type { QuarantineReason } from './outbox-quarantine';

export interface OutboxLimits {
  maxBytes: number;
  maxCount: number;
  /**
   * Samples, and their bytes, waiting to be written; beyond either new ones
   * are dropped, so inference never waits on the disk and memory stays bounded.
   */
  maxPendingWrites: number;
  maxPendingBytes: number;
  /** Free bytes the outbox leaves on its filesystem: a sample that would eat into them is refused. */
  diskReserveBytes: number;
  quarantine: QuarantineLimits;
}

export type OutboxDropReason = 'outbox_full' | 'write_backlog' | 'write_failed' | 'disk_full' | 'disk_reserve' | 'quarantine_full';

export interface OutboxEvents {
  /** A sample that will never be sent nor kept: the new one refused, or a stored one evicted for it. */
  dropped(sample: StoredSample, reason: OutboxDropReason): void;
  /** A sample set aside, never to be sent again; its file waits in quarantine/. */
  quarantined(sample: StoredSample, reason: QuarantineReason): void;
}

interface PendingWrite {
  sample: StoredSample;
  payload: Uint8Array;
  resolve(accepted: boolean): void;
}

const READY = 'ready';
const WRITE_GROUP = 32;
const WRITING = 'writing';
const QUARANTINE = 'quarantine';

/**
 * Samples on their way to the cloud, on disk. A sample is accepted only once
 * it is durable, by this discipline:
 *
 * 1. its bytes go to a new file in `writing/`, which is fsync'd and closed;
 * 2. the file is renamed into `ready/` (atomic on one filesystem);
 * 3. `ready/` itself is fsync'd, which makes the rename durable.
 *
 * A file in `ready/` is therefore always complete, and whatever is left in
 * `writing/` after a crash is an unaccepted fragment, deleted on open (and
 * at once when a write fails). The file name carries the priority, capture
 * time and counted attempts, so reopening lists the folder instead of
 * reading every sample. Removing a sent sample is a plain unlink: if power
 * loss brings one back, it is sent again and the cloud ignores the repeat by
 * its id. Samples that must not be sent again go to quarantine/.
 *
 * Writes are queued and committed in groups (one directory fsync per group)
 * off the caller's path; `offer` never waits for the disk. The outbox's
 * memory says at once where each sample stands; the file work that follows
 * (rename, move, delete, read) runs in order per sample.
 */
export class SampleOutbox {
  private readonly waiting: StoredSample[] = [];
  private readonly sending = new Map<string, StoredSample>();
  private readonly fileWork = new Map<string, Promise<unknown>>();
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
    private readonly files: FileSystem,
    private readonly quarantined: OutboxQuarantine,
  ) {}

  /** Opens (or creates) the outbox in `directory`, discarding unaccepted fragments of an earlier run. */
  static async open(directory: string, limits: OutboxLimits, events: OutboxEvents, logger: Logger, files: FileSystem = nodeFileSystem): Promise<SampleOutbox> {
    const log = logger.child({ component: 'sample-outbox' });
    await files.remove(join(directory, WRITING));
    await files.makeDirectory(join(directory, WRITING));
    await makeDirectoryDurably(files, join(directory, READY));
    const quarantine = await OutboxQuarantine.open(files, join(directory, QUARANTINE), limits.quarantine, log);
    const outbox = new SampleOutbox(directory, limits, events, log, files, quarantine);
    for (const entry of await files.list(join(directory, READY))) {
      const described = parseFileName(entry.name);
      if (!described) {
        log.warn({ file: entry.name }, 'ignoring a file the outbox did not write');
        continue;
      }
      if (quarantine.has(described.id)) {
        // A move into quarantine cut short by a crash left it in both places.
        await files.remove(join(directory, READY, entry.name));
        continue;
      }
      const sample = { ...described, bytes: (await files.sizeOf(join(directory, READY, entry.name))) ?? 0 };
      outbox.insertWaiting(sample);
      outbox.storedBytes += sample.bytes;
    }
    if (outbox.waiting.length > 0) log.info({ samples: outbox.waiting.length, bytes: outbox.storedBytes }, 'outbox reopened with unsent samples');
    if (quarantine.count > 0) log.warn({ samples: quarantine.count, bytes: quarantine.bytes, directory: join(directory, QUARANTINE) }, 'outbox holds quarantined samples');
    return outbox;
  }

  get count(): number {
    return this.waiting.length + this.sending.size;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  get quarantinedCount(): number {
    return this.quarantined.count;
  }

  get quarantinedBytes(): number {
    return this.quarantined.bytes;
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
    if (!OUTBOX_SAMPLE_ID.test(newSample.id)) throw new Error(`outbox sample ids are 1-64 letters, digits or '-'; got ${JSON.stringify(newSample.id)}`);
    const sample = { ...newSample, bytes: payload.byteLength, attempts: 0 };
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
          return { sample, payload: await this.onFile(sample.id, () => this.files.readFile(this.pathOf(sample))) };
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

  /**
   * What `window` has room for, at most `readAhead`, taken as take() does:
   * the window holds every sample taken and not yet removed, released or
   * quarantined. Nothing once either bound is reached (the sample that
   * crosses one still goes).
   */
  takeWithinWindow(window: InFlightWindow, readAhead: number): Promise<Array<{ sample: StoredSample; payload: Buffer }>> {
    let inFlightBytes = 0;
    for (const sample of this.sending.values()) inFlightBytes += sample.bytes;
    const bytes = window.bytes - inFlightBytes;
    const count = bytes > 0 ? Math.max(0, window.count - this.sending.size) : 0;
    return count === 0 ? Promise.resolve([]) : this.take(Math.min(count, readAhead), bytes);
  }

  /**
   * Puts an in-flight sample back in line: its send failed or was never
   * acknowledged. An `attempted` one has its attempt counted, in its file
   * name, before it can be read again.
   */
  release(id: string, attempted = false): void {
    const sample = this.sending.get(id);
    if (!sample) return;
    this.sending.delete(id);
    if (attempted) {
      const before = this.pathOf(sample);
      sample.attempts++;
      const after = this.pathOf(sample);
      void this.onFile(id, () =>
        this.files.rename(before, after).catch((error: unknown) => {
          // Not counted, then: the file keeps its name and the count stays in step with it.
          sample.attempts--;
          this.log.warn({ sampleId: id, err: (error as Error).message }, 'could not count a delivery attempt');
        }),
      );
    }
    this.insertWaiting(sample);
  }

  /** Sets a sample aside for good: it is moved to quarantine/, logged and counted, and never sent again. Unknown ids are ignored. */
  async quarantine(id: string, reason: QuarantineReason, detail: string): Promise<void> {
    const sample = this.sending.get(id) ?? this.takeWaiting(id);
    if (!sample) return;
    this.sending.delete(id);
    this.storedBytes -= sample.bytes;
    this.log.warn({ sampleId: id, reason, detail, attempts: sample.attempts }, 'sample quarantined; it will not be sent again');
    this.events.quarantined(sample, reason);
    await this.onFile(id, async () => {
      try {
        for (const evicted of await this.quarantined.admit(this.pathOf(sample), sample, reason)) {
          this.log.warn({ sampleId: evicted.id }, 'quarantine full; deleted its earliest sample');
          this.events.dropped(evicted, 'quarantine_full');
        }
      } catch (error) {
        // Its file stays in ready/: sent again after a restart, and set aside again if it must be.
        this.log.error({ sampleId: id, err: (error as Error).message }, 'could not move a sample into quarantine');
      }
    });
  }

  /** Forgets samples the cloud has stored. Unknown ids are ignored: acks can repeat. */
  async remove(ids: Iterable<string>): Promise<number> {
    const removed: Promise<void>[] = [];
    for (const id of ids) {
      const sample = this.sending.get(id) ?? this.takeWaiting(id);
      // Set aside meanwhile (a late ack): stored after all, so the quarantined copy goes too.
      if (!sample) {
        void this.onFile(id, () => this.quarantined.discard(id)).catch(() => undefined);
        continue;
      }
      this.sending.delete(id);
      this.storedBytes -= sample.bytes;
      removed.push(this.onFile(id, () => this.files.remove(this.pathOf(sample))));
    }
    await Promise.all(removed);
    return removed.length;
  }

  /** Finishes queued writes; later offers are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.writer;
    await Promise.allSettled([...this.fileWork.values()]);
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
      const { fitting, refused } = await this.withinReserve(group);
      const failed: { write: PendingWrite; reason: OutboxDropReason }[] = refused.map((write) => ({ write, reason: 'disk_reserve' }));
      const written: PendingWrite[] = [];
      // The files of a group are written and fsync'd side by side: one
      // fsync at a time could not keep up with a fast line on a busy disk.
      const outcomes = await Promise.allSettled(fitting.map((write) => this.writeFile(write)));
      for (const write of group) this.pendingBytes -= write.payload.byteLength;
      outcomes.forEach((outcome, index) => {
        const write = fitting[index]!;
        if (outcome.status === 'fulfilled') return void written.push(write);
        const reason = isDiskFull(outcome.reason) ? 'disk_full' : 'write_failed';
        this.log.error({ sampleId: write.sample.id, reason, err: (outcome.reason as Error).message }, 'outbox write failed; sample dropped');
        failed.push({ write, reason });
      });
      if (written.length > 0) {
        try {
          await this.files.syncDirectory(join(this.directory, READY));
        } catch (error) {
          // Not durable, so not accepted.
          this.log.error({ err: (error as Error).message }, 'outbox directory sync failed; samples dropped');
          for (const write of written.splice(0)) {
            await this.files.remove(this.pathOf(write.sample)).catch(() => undefined);
            failed.push({ write, reason: isDiskFull(error) ? 'disk_full' : 'write_failed' });
          }
        }
      }
      if (this.writes.length === 0) this.writing = false;
      for (const { write, reason } of failed) {
        this.events.dropped(write.sample, reason);
        write.resolve(false);
      }
      for (const write of written) write.resolve(this.admit(write.sample));
      if (!this.writing) return;
    }
  }

  /** Splits a group into the samples that leave the disk reserve free and those that would not. */
  private async withinReserve(group: PendingWrite[]): Promise<{ fitting: PendingWrite[]; refused: PendingWrite[] }> {
    let free: number;
    try {
      free = await this.files.freeBytes(this.directory);
    } catch (error) {
      // Not knowing is no reason to refuse: a full disk still refuses the write itself.
      this.log.warn({ err: (error as Error).message }, 'cannot tell the free space of the outbox disk');
      return { fitting: group, refused: [] };
    }
    const split = fitWithinReserve(group, (write) => write.payload.byteLength, free, this.limits.diskReserveBytes);
    if (split.refused.length > 0) this.log.warn({ refused: split.refused.length, freeBytes: free, reserveBytes: this.limits.diskReserveBytes }, 'outbox disk is down to its reserve; new samples refused');
    return split;
  }

  /** Writes one sample into ready/; a failure leaves nothing behind in writing/. */
  private async writeFile({ sample, payload }: PendingWrite): Promise<void> {
    const partial = join(this.directory, WRITING, `${randomUUID()}.partial`);
    try {
      const file = await this.files.open(partial, 'create');
      try {
        await file.write(payload);
        await file.sync();
      } finally {
        await file.close();
      }
      await this.files.rename(partial, this.pathOf(sample));
    } catch (error) {
      await this.files.remove(partial).catch(() => undefined);
      throw error;
    }
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
      void this.onFile(victim.id, () => this.files.remove(this.pathOf(victim))).catch(() => undefined);
      if (victim.id === sample.id) return false;
    }
    return true;
  }

  /** Runs file work for one sample after the work already queued for it. */
  private onFile<T>(id: string, work: () => Promise<T>): Promise<T> {
    const next = (this.fileWork.get(id) ?? Promise.resolve()).then(work, work);
    const settled = next.catch(() => undefined);
    this.fileWork.set(id, settled);
    void settled.then(() => {
      if (this.fileWork.get(id) === settled) this.fileWork.delete(id);
    });
    return next;
  }

  private insertWaiting(sample: StoredSample): void {
    insertInSendingOrder(this.waiting, sample);
  }

  private takeWaiting(id: string): StoredSample | undefined {
    const index = this.waiting.findIndex((sample) => sample.id === id);
    return index === -1 ? undefined : this.waiting.splice(index, 1)[0];
  }

  private pathOf(sample: StoredSample): string {
    return join(this.directory, READY, fileNameOf(sample));
  }
}
