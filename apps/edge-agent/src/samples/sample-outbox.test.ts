import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedDisk } from '../testing/simulated-disk';
import { SampleOutbox, type NewSample, type OutboxDropReason, type OutboxLimits, type QuarantineReason, type StoredSample } from './sample-outbox';

const logger = pino({ level: 'silent' });
const roomy: OutboxLimits = {
  maxBytes: 1 << 30,
  maxCount: 10_000,
  maxPendingWrites: 1_000,
  maxPendingBytes: 1 << 30,
  diskReserveBytes: 0,
  quarantine: { maxBytes: 1 << 30, maxCount: 1_000 },
};

describe('SampleOutbox', () => {
  const directories: string[] = [];
  afterEach(async () => {
    await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
  });

  async function freshDirectory(): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), 'loupe-outbox-'));
    directories.push(directory);
    return directory;
  }

  function recordingDrops() {
    const drops: { id: string; reason: OutboxDropReason }[] = [];
    const quarantined: { id: string; reason: QuarantineReason }[] = [];
    return {
      drops,
      quarantined,
      events: {
        dropped: (sample: StoredSample, reason: OutboxDropReason) => drops.push({ id: sample.id, reason }),
        quarantined: (sample: StoredSample, reason: QuarantineReason) => quarantined.push({ id: sample.id, reason }),
      },
    };
  }

  const sample = (id: string, priority: number, capturedAtMs = 1_700_000_000_000): NewSample => ({ id, priority, capturedAtMs });

  it('hands out the most valuable sample first, oldest first among equals', async () => {
    const outbox = await SampleOutbox.open(await freshDirectory(), roomy, recordingDrops().events, logger);
    await Promise.all([
      outbox.offer(sample('low', 0.1), Buffer.from('l')),
      outbox.offer(sample('high-later', 0.9, 1_700_000_000_500), Buffer.from('h2')),
      outbox.offer(sample('high-earlier', 0.9, 1_700_000_000_100), Buffer.from('h1')),
      outbox.offer(sample('middle', 0.5), Buffer.from('m')),
    ]);
    const order: string[] = [];
    for (let next = await takeOne(outbox); next; next = await takeOne(outbox)) order.push(next.sample.id);
    expect(order).toEqual(['high-earlier', 'high-later', 'middle', 'low']);
  });

  it('keeps samples until they are removed, and puts released ones back in line', async () => {
    const outbox = await SampleOutbox.open(await freshDirectory(), roomy, recordingDrops().events, logger);
    await outbox.offer(sample('a', 0.5), Buffer.from('payload-a'));
    const first = await takeOne(outbox);
    expect(first?.payload.toString()).toBe('payload-a');
    expect(await takeOne(outbox)).toBeUndefined();
    outbox.release('a');
    expect((await takeOne(outbox))?.sample.id).toBe('a');
    expect(await outbox.remove(['a', 'a', 'unknown'])).toBe(1);
    expect(outbox.count).toBe(0);
    expect(outbox.bytes).toBe(0);
  });

  it('takes as many samples as fit in a count and a byte budget, in order, the first whatever its size', async () => {
    const outbox = await SampleOutbox.open(await freshDirectory(), roomy, recordingDrops().events, logger);
    await Promise.all([
      outbox.offer(sample('big', 0.9), Buffer.alloc(100, 1)),
      outbox.offer(sample('small-1', 0.8), Buffer.alloc(10, 2)),
      outbox.offer(sample('small-2', 0.7), Buffer.alloc(10, 3)),
      outbox.offer(sample('small-3', 0.6), Buffer.alloc(10, 4)),
    ]);
    expect((await outbox.take(5, 50)).map((taken) => taken.sample.id)).toEqual(['big']);
    const next = await outbox.take(5, 25);
    expect(next.map((taken) => taken.sample.id)).toEqual(['small-1', 'small-2']);
    expect(next.map((taken) => taken.payload[0])).toEqual([2, 3]);
    expect((await outbox.take(5)).map((taken) => taken.sample.id)).toEqual(['small-3']);
    expect(await outbox.take(5)).toEqual([]);
  });

  it('owns the in-flight window: takes only what it has room for, and has room again as samples come back', async () => {
    const outbox = await SampleOutbox.open(await freshDirectory(), roomy, recordingDrops().events, logger);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id, index) => outbox.offer(sample(id, 0.9 - index / 10), Buffer.alloc(10, index))));
    const ids = async (window: { count: number; bytes: number }) => (await outbox.takeWithinWindow(window, 16)).map((taken) => taken.sample.id);
    const two = { count: 2, bytes: 1_000 };
    expect(await ids(two)).toEqual(['a', 'b']);
    expect(await ids(two)).toEqual([]);
    await outbox.remove(['a']);
    expect(await ids(two)).toEqual(['c']);
    outbox.release('b');
    expect(await ids(two)).toEqual(['b']);
    // 20 bytes in flight: the next sample crosses a 25-byte bound and still goes, then none does.
    expect(await ids({ count: 10, bytes: 25 })).toEqual(['d']);
    expect(await ids({ count: 10, bytes: 25 })).toEqual([]);
    expect((await outbox.takeWithinWindow({ count: 10, bytes: 1_000 }, 1)).map((taken) => taken.sample.id)).toEqual(['e']);
  });

  it('comes back after a restart with every accepted sample, in the same order', async () => {
    const directory = await freshDirectory();
    const before = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
    await before.offer(sample('kept-low', 0.2), Buffer.from('low'));
    await before.offer(sample('kept-high', 0.8), Buffer.from('high'));
    await before.offer(sample('sent', 0.5), Buffer.from('gone'));
    await before.remove(['sent']);
    await before.close();
    const after = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
    expect(after.count).toBe(2);
    expect(after.bytes).toBe(7);
    expect((await takeOne(after))?.payload.toString()).toBe('high');
    expect((await takeOne(after))?.payload.toString()).toBe('low');
  });

  it('discards a half-written file from a crash and ignores files it did not write', async () => {
    const directory = await freshDirectory();
    await (await SampleOutbox.open(directory, roomy, recordingDrops().events, logger)).close();
    await writeFile(join(directory, 'writing', 'torn.partial'), 'half a sam');
    await writeFile(join(directory, 'ready', 'notes.txt'), 'not a sample');
    const outbox = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
    expect(outbox.count).toBe(0);
    expect(await readdir(join(directory, 'writing'))).toEqual([]);
  });

  describe('when full', () => {
    it('drops the least valuable stored sample for a more valuable one, and counts it', async () => {
      const { drops, events } = recordingDrops();
      const outbox = await SampleOutbox.open(await freshDirectory(), { ...roomy, maxCount: 2 }, events, logger);
      expect(await outbox.offer(sample('a', 0.3), Buffer.from('a'))).toBe(true);
      expect(await outbox.offer(sample('b', 0.6), Buffer.from('b'))).toBe(true);
      expect(await outbox.offer(sample('c', 0.9), Buffer.from('c'))).toBe(true);
      expect(drops).toEqual([{ id: 'a', reason: 'outbox_full' }]);
      expect(outbox.count).toBe(2);
    });

    it('refuses a new sample less valuable than everything stored', async () => {
      const { drops, events } = recordingDrops();
      const outbox = await SampleOutbox.open(await freshDirectory(), { ...roomy, maxCount: 2 }, events, logger);
      await outbox.offer(sample('a', 0.5), Buffer.from('a'));
      await outbox.offer(sample('b', 0.6), Buffer.from('b'));
      expect(await outbox.offer(sample('c', 0.1), Buffer.from('c'))).toBe(false);
      expect(drops).toEqual([{ id: 'c', reason: 'outbox_full' }]);
      const left: string[] = [];
      for (let next = await takeOne(outbox); next; next = await takeOne(outbox)) left.push(next.sample.id);
      expect(left).toEqual(['b', 'a']);
    });

    it('keeps within its byte bound', async () => {
      const { drops, events } = recordingDrops();
      const outbox = await SampleOutbox.open(await freshDirectory(), { ...roomy, maxBytes: 2_500 }, events, logger);
      for (let i = 0; i < 5; i++) await outbox.offer(sample(`s${i}`, i / 10), Buffer.alloc(1_000));
      expect(outbox.bytes).toBeLessThanOrEqual(2_500);
      expect(outbox.count).toBe(2);
      expect(drops.map((drop) => drop.id)).toEqual(['s0', 's1', 's2']);
    });

    it('drops instead of queueing when writes fall behind, so callers never wait', async () => {
      const { drops, events } = recordingDrops();
      const outbox = await SampleOutbox.open(await freshDirectory(), { ...roomy, maxPendingWrites: 2 }, events, logger);
      const offers = Array.from({ length: 6 }, (_, i) => outbox.offer(sample(`s${i}`, 0.5), Buffer.from('x')));
      expect(drops.filter((drop) => drop.reason === 'write_backlog').length).toBeGreaterThan(0);
      await Promise.all(offers);
    });
  });

  it('loses no accepted sample and keeps no torn one when its process is killed mid-write', async () => {
    const directory = await freshDirectory();
    const writer = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'outbox-writer.fixture.ts'), directory], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    writer.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    await new Promise<void>((resolve) => {
      const check = () => (output.split('\n').length > 300 ? resolve() : setTimeout(check, 10));
      check();
    });
    writer.kill('SIGKILL');
    await exited;
    const accepted = output.split('\n').filter((line) => line.length === 36);

    const outbox = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
    const found = new Set<string>();
    for (let next = await takeOne(outbox); next; next = await takeOne(outbox)) {
      const digest = next.payload.subarray(0, 32);
      expect(createHash('sha256').update(next.payload.subarray(32)).digest().equals(digest)).toBe(true);
      found.add(next.sample.id);
    }
    for (const id of accepted) expect(found.has(id)).toBe(true);
    expect(accepted.length).toBeGreaterThan(300);
  }, 60_000);

  describe('quarantine', () => {
    it('sets a sample aside in quarantine/<reason>, never hands it out again, and keeps it there across a restart', async () => {
      const directory = await freshDirectory();
      const { quarantined, events } = recordingDrops();
      const outbox = await SampleOutbox.open(directory, roomy, events, logger);
      await outbox.offer(sample('poison', 0.9), Buffer.from('poison'));
      await outbox.offer(sample('good', 0.5), Buffer.from('good'));
      expect((await takeOne(outbox))?.sample.id).toBe('poison');
      await outbox.quarantine('poison', 'rejected', 'the cloud refused it: invalid');
      expect(quarantined).toEqual([{ id: 'poison', reason: 'rejected' }]);
      expect([outbox.count, outbox.bytes, outbox.quarantinedCount, outbox.quarantinedBytes]).toEqual([1, 4, 1, 6]);
      expect((await takeOne(outbox))?.sample.id).toBe('good');
      expect(await takeOne(outbox)).toBeUndefined();
      await outbox.close();

      const [file] = await readdir(join(directory, 'quarantine', 'rejected'));
      expect(await readFile(join(directory, 'quarantine', 'rejected', file!), 'utf8')).toBe('poison');
      const reopened = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
      expect([reopened.count, reopened.quarantinedCount]).toEqual([1, 1]);
      expect((await takeOne(reopened))?.sample.id).toBe('good');
    });

    it('keeps within its bounds by deleting the earliest captured, counted as quarantine_full', async () => {
      const { drops, events } = recordingDrops();
      const outbox = await SampleOutbox.open(await freshDirectory(), { ...roomy, quarantine: { maxBytes: 1 << 20, maxCount: 2 } }, events, logger);
      for (const [id, capturedAtMs] of [['b', 2], ['a', 1], ['c', 3]] as const) {
        await outbox.offer(sample(id, 0.5, 1_700_000_000_000 + capturedAtMs), Buffer.from(id));
        await outbox.take(1);
        await outbox.quarantine(id, 'undecodable', 'test');
      }
      expect(drops).toEqual([{ id: 'a', reason: 'quarantine_full' }]);
      expect(outbox.quarantinedCount).toBe(2);
    });

    it('deletes a quarantined copy when the cloud acknowledges the sample after all', async () => {
      const directory = await freshDirectory();
      const outbox = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
      await outbox.offer(sample('late', 0.5), Buffer.from('late'));
      await outbox.take(1);
      await outbox.quarantine('late', 'attempts', 'test');
      expect(await outbox.remove(['late'])).toBe(0);
      await outbox.close();
      expect(outbox.quarantinedCount).toBe(0);
      expect(await readdir(join(directory, 'quarantine', 'attempts'))).toEqual([]);
    });

    it('finishes a move into quarantine that a crash cut short, so the sample is not in both places', async () => {
      const directory = await freshDirectory();
      const outbox = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
      await outbox.offer(sample('moved', 0.5), Buffer.from('moved'));
      await outbox.close();
      const [name] = await readdir(join(directory, 'ready'));
      await writeFile(join(directory, 'quarantine', 'rejected', name!), 'moved');
      const reopened = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
      expect([reopened.count, reopened.quarantinedCount]).toEqual([0, 1]);
      expect(await readdir(join(directory, 'ready'))).toEqual([]);
    });
  });

  it('counts an attempt in the file name, so it outlives a restart, and a plain release counts none', async () => {
    const directory = await freshDirectory();
    const outbox = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
    await outbox.offer(sample('tried', 0.5), Buffer.from('tried'));
    for (const attempted of [true, false, true]) {
      const taken = await takeOne(outbox);
      outbox.release(taken!.sample.id, attempted);
    }
    const taken = await takeOne(outbox);
    expect(taken).toMatchObject({ sample: { id: 'tried', attempts: 2 } });
    expect(taken?.payload.toString()).toBe('tried');
    await outbox.close();
    expect(await readdir(join(directory, 'ready'))).toEqual(['0500000_1700000000000_tried.2.sample']);
    const reopened = await SampleOutbox.open(directory, roomy, recordingDrops().events, logger);
    expect((await takeOne(reopened))?.sample.attempts).toBe(2);
  });

  it('refuses a sample id it could not name a file after', async () => {
    const outbox = await SampleOutbox.open(await freshDirectory(), roomy, recordingDrops().events, logger);
    expect(() => outbox.offer(sample('../escape', 0.5), Buffer.from('x'))).toThrow(/1-64 letters, digits or '-'/);
  });

  describe('on a filling disk', () => {
    it('refuses new samples that would eat into its disk reserve, and takes smaller ones that fit', async () => {
      const { drops, events } = recordingDrops();
      const disk = await SimulatedDisk.over(await freshDirectory(), { capacityBytes: 10_000 });
      const outbox = await SampleOutbox.open(disk.root, { ...roomy, diskReserveBytes: 6_000 }, events, logger, disk);
      expect(await outbox.offer(sample('fits', 0.5), Buffer.alloc(3_000))).toBe(true);
      expect(await outbox.offer(sample('too-big', 0.9), Buffer.alloc(2_000))).toBe(false);
      expect(await outbox.offer(sample('small', 0.1), Buffer.alloc(1_000))).toBe(true);
      expect(drops).toEqual([{ id: 'too-big', reason: 'disk_reserve' }]);
      expect(await disk.freeBytes(disk.root)).toBe(6_000);
    });

    it('leaves no partial file behind whichever step of a write fails, and tells a full disk from other failures', async () => {
      const existing = async () => {
        const directory = await freshDirectory();
        await (await SampleOutbox.open(directory, roomy, recordingDrops().events, logger)).close();
        return directory;
      };
      const recording = await SimulatedDisk.over(await existing());
      const outbox = await SampleOutbox.open(recording.root, roomy, recordingDrops().events, logger, recording);
      const opened = recording.steps.length;
      await outbox.offer(sample('recorded', 0.5), Buffer.from('x'));
      const steps = recording.steps.slice(opened).map((step) => step.kind);
      expect(steps).toEqual(['open', 'write', 'sync', 'rename', 'sync-directory']);
      for (const [step, kind] of steps.entries()) {
        for (const [code, reason] of [['EIO', 'write_failed'], ['ENOSPC', 'disk_full']] as const) {
          const disk = await SimulatedDisk.over(await existing(), { failAt: { step: opened + step, code } });
          const { drops, events } = recordingDrops();
          const failing = await SampleOutbox.open(disk.root, roomy, events, logger, disk);
          expect(await failing.offer(sample('failing', 0.5), Buffer.from('x')), `${code} at ${kind}`).toBe(false);
          expect(drops).toEqual([{ id: 'failing', reason }]);
          expect(await readdir(join(disk.root, 'writing'))).toEqual([]);
          expect(await readdir(join(disk.root, 'ready'))).toEqual([]);
        }
      }
    });
  });

  it('names each file for its sample so unrelated ids never collide', async () => {
    const outbox = await SampleOutbox.open(await freshDirectory(), roomy, recordingDrops().events, logger);
    const ids = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(ids.map((id) => outbox.offer(sample(id, 0.5), Buffer.from(id))));
    for (let next = await takeOne(outbox); next; next = await takeOne(outbox)) expect(next.payload.toString()).toBe(next.sample.id);
    expect(outbox.count).toBe(20);
  });
});

async function takeOne(outbox: SampleOutbox) {
  const [next] = await outbox.take(1);
  return next;
}
