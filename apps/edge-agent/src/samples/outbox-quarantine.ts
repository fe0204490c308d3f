import { join } from 'node:path';
import type { Logger } from 'pino';
import { makeDirectoryDurably, renameDurably } from '../storage/durable-files';
import type { FileSystem } from '../storage/file-system';
import { fileNameOf, parseFileName, type StoredSample } from './outbox-files';

/** Why a sample is set aside instead of sent: its file is not a SampleUpload, the cloud refused it, or it used up its attempts. */
export const QUARANTINE_REASONS = ['undecodable', 'rejected', 'attempts'] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface QuarantineLimits {
  maxBytes: number;
  maxCount: number;
}

interface Held {
  sample: StoredSample;
  reason: QuarantineReason;
}

/**
 * OUTBOX_DIR/quarantine/<reason>/: samples that will never be sent again,
 * kept for an operator to inspect or move back into ready/. Bounded in
 * count and bytes so it cannot fill the disk: past either bound, the
 * earliest captured go. A file keeps its outbox name with its attempts
 * cleared, so one moved back starts afresh.
 */
export class OutboxQuarantine {
  private readonly held = new Map<string, Held>();
  private heldBytes = 0;

  private constructor(
    private readonly files: FileSystem,
    private readonly directory: string,
    private readonly limits: QuarantineLimits,
  ) {}

  static async open(files: FileSystem, directory: string, limits: QuarantineLimits, log: Logger): Promise<OutboxQuarantine> {
    const quarantine = new OutboxQuarantine(files, directory, limits);
    for (const reason of QUARANTINE_REASONS) {
      await makeDirectoryDurably(files, join(directory, reason));
      for (const entry of await files.list(join(directory, reason))) {
        const described = parseFileName(entry.name);
        if (!described) {
          log.warn({ file: join(reason, entry.name) }, 'ignoring a file in the quarantine the outbox did not write');
          continue;
        }
        const bytes = (await files.sizeOf(join(directory, reason, entry.name))) ?? 0;
        quarantine.hold({ ...described, bytes }, reason);
      }
    }
    return quarantine;
  }

  get count(): number {
    return this.held.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  /**
   * Moves a sample's file in from `from` and makes the move durable;
   * resolves with the samples evicted to stay within the bounds (their
   * files are gone).
   */
  async admit(from: string, sample: StoredSample, reason: QuarantineReason): Promise<StoredSample[]> {
    await renameDurably(this.files, from, this.pathOf(sample, reason));
    this.hold(sample, reason);
    const evicted: StoredSample[] = [];
    while (this.held.size > this.limits.maxCount || this.heldBytes > this.limits.maxBytes) {
      const oldest = this.earliestCaptured();
      if (!oldest) break;
      await this.discard(oldest.id);
      evicted.push(oldest);
    }
    return evicted;
  }

  /** Deletes a quarantined sample's file (evicted, or stored by the cloud after all); unknown ids are ignored. */
  async discard(id: string): Promise<void> {
    const held = this.held.get(id);
    if (!held) return;
    this.held.delete(id);
    this.heldBytes -= held.sample.bytes;
    await this.files.remove(this.pathOf(held.sample, held.reason));
  }

  private hold(sample: StoredSample, reason: QuarantineReason): void {
    const earlier = this.held.get(sample.id);
    if (earlier) this.heldBytes -= earlier.sample.bytes;
    this.held.set(sample.id, { sample: { ...sample, attempts: 0 }, reason });
    this.heldBytes += sample.bytes;
  }

  private earliestCaptured(): StoredSample | undefined {
    let earliest: StoredSample | undefined;
    for (const { sample } of this.held.values()) if (!earliest || sample.capturedAtMs < earliest.capturedAtMs) earliest = sample;
    return earliest;
  }

  private pathOf(sample: StoredSample, reason: QuarantineReason): string {
    return join(this.directory, reason, fileNameOf({ ...sample, attempts: 0 }));
  }
}
