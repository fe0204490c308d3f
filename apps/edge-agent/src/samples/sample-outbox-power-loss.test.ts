import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../storage/file-system';
import { SimulatedDisk } from '../testing/simulated-disk';
import { parseFileName } from './outbox-files';
import { SampleOutbox, type OutboxLimits } from './sample-outbox';

const logger = pino({ level: 'silent' });
const limits: OutboxLimits = {
  maxBytes: 1 << 30,
  maxCount: 10_000,
  maxPendingWrites: 1_000,
  maxPendingBytes: 1 << 30,
  diskReserveBytes: 0,
  quarantine: { maxBytes: 1 << 30, maxCount: 1_000 },
};
const NO_EVENTS = { dropped: () => undefined, quarantined: () => undefined };

/** A payload that is its own checksum, so a torn file shows. */
function payloadOf(id: string): Buffer {
  const body = Buffer.from(`sample ${id} `.repeat(40));
  return Buffer.concat([createHash('sha256').update(body).digest(), body]);
}
const intact = (payload: Buffer) => createHash('sha256').update(payload.subarray(32)).digest().equals(payload.subarray(0, 32));
const sample = (id: string, priority: number) => ({ id, priority, capturedAtMs: 1_700_000_000_000 + priority * 1_000 });

/** What an outbox reopened on `directory` holds: the ids it will send (payloads checked) and the ids in quarantine. */
async function reopened(directory: string): Promise<{ ready: string[]; quarantined: string[] }> {
  const outbox = await SampleOutbox.open(directory, limits, NO_EVENTS, logger, nodeFileSystem);
  const ready: string[] = [];
  for (let [next] = await outbox.take(1); next; [next] = await outbox.take(1)) {
    expect(intact(next.payload), `sample ${next.sample.id} is whole`).toBe(true);
    ready.push(next.sample.id);
  }
  const quarantined: string[] = [];
  for (const reason of await readdir(join(directory, 'quarantine'))) {
    for (const name of await readdir(join(directory, 'quarantine', reason))) quarantined.push(parseFileName(name)!.id);
  }
  await outbox.close();
  return { ready, quarantined };
}

const count = (ids: string[], id: string) => ids.filter((each) => each === id).length;

/**
 * Power loss at every disk step of the outbox's work, on a simulated disk
 * that forgets whatever was not made durable (testing/simulated-disk). For
 * each k, a fresh outbox loses power at step k; after the reboot, every
 * sample whose offer() resolved true is there exactly once (to send, or in
 * quarantine), whole, and nothing acknowledged is there twice.
 */
describe('the outbox across power loss at every disk step', () => {
  type Prepare = ((outbox: SampleOutbox) => Promise<void>) | undefined;

  /** Runs `work` on a fresh disk (made ready by `prepare`) losing power at `crashAt`; resolves with the steps taken and the outbox after the reboot. */
  async function powerLossAt<T>(crashAt: number | undefined, prepare: Prepare, work: (outbox: SampleOutbox) => Promise<T>) {
    const setup = await SimulatedDisk.fresh();
    if (prepare) await prepare(await SampleOutbox.open(setup.root, limits, NO_EVENTS, logger, setup));
    const disk = await SimulatedDisk.over(setup.root, crashAt === undefined ? {} : { crashAt });
    let outcome: T | undefined;
    try {
      outcome = await work(await SampleOutbox.open(disk.root, limits, NO_EVENTS, logger, disk));
    } catch (error) {
      if (!disk.crashed) throw error;
    }
    const steps = disk.steps;
    await disk.reboot();
    try {
      return { steps, outcome, after: await reopened(disk.root) };
    } finally {
      await rm(disk.root, { recursive: true, force: true });
    }
  }

  async function everyStep<T>(
    prepare: Prepare,
    work: (outbox: SampleOutbox) => Promise<T>,
    check: (after: { ready: string[]; quarantined: string[] }, outcome: T | undefined, crashAt: number | undefined) => void,
  ) {
    const recording = await powerLossAt(undefined, prepare, work);
    check(recording.after, recording.outcome, undefined);
    for (let crashAt = 0; crashAt <= recording.steps.length; crashAt++) {
      const { after, outcome } = await powerLossAt(crashAt, prepare, work);
      check(after, outcome, crashAt);
    }
    return recording.steps.map((step) => step.kind);
  }

  it('keeps every sample whose offer was accepted, once and whole, wherever an append of two groups loses power', async () => {
    const ids = Array.from({ length: 6 }, (_, index) => `s${index}`);
    const kinds = await everyStep(
      undefined,
      async (outbox) => {
        const accepted = new Set<string>();
        const offer = (id: string, priority: number) =>
          outbox.offer(sample(id, priority), payloadOf(id)).then((stored) => {
            if (stored) accepted.add(id);
          });
        // Two at once share a group and its directory sync; the rest come as the next group.
        const first = [offer('s0', 0.1), offer('s1', 0.2)];
        await Promise.all([...first, ...ids.slice(2).map((id, index) => offer(id, 0.3 + index / 10))]);
        return accepted;
      },
      (after, accepted, crashAt) => {
        // Nothing accepted when the power went before the outbox opened.
        for (const id of accepted ?? []) expect(count(after.ready, id), `${id} after power loss at ${crashAt}`).toBe(1);
        for (const id of after.ready) expect(ids).toContain(id);
        expect(after.quarantined).toEqual([]);
      },
    );
    expect(new Set(kinds)).toEqual(new Set(['remove', 'mkdir', 'sync-directory', 'open', 'write', 'sync', 'rename']));
  });

  it('keeps what is not acknowledged and never doubles a sample, wherever deletes, a counted attempt or a move into quarantine lose power', async () => {
    const ids = ['acked-1', 'acked-2', 'retried', 'refused', 'waiting'];
    const kinds = await everyStep(
      async (outbox) => {
        await Promise.all(ids.map((id, index) => outbox.offer(sample(id, 0.9 - index / 10), payloadOf(id))));
        await outbox.close();
      },
      async (outbox) => {
        await outbox.take(4);
        outbox.release('retried', true);
        await Promise.all([outbox.remove(['acked-1', 'acked-2']), outbox.quarantine('refused', 'rejected', 'the cloud refused it')]);
        await outbox.close();
      },
      (after, _outcome, crashAt) => {
        const where = `after power loss at ${crashAt}`;
        for (const id of ['retried', 'waiting']) expect(count(after.ready, id), `${id} ${where}`).toBe(1);
        expect(count(after.ready, 'refused') + count(after.quarantined, 'refused'), `refused ${where}`).toBe(1);
        for (const id of ['acked-1', 'acked-2']) expect(count(after.ready, id), `${id} ${where}`).toBeLessThanOrEqual(1);
        if (crashAt === undefined) expect(after).toEqual({ ready: ['retried', 'waiting'], quarantined: ['refused'] });
      },
    );
    expect(new Set(kinds)).toEqual(new Set(['remove', 'mkdir', 'rename', 'sync-directory']));
  });
});
