import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { nodeFileSystem, type FileSystem, type WritableFile } from '../storage/file-system';

export type DiskStepKind = 'open' | 'write' | 'sync' | 'rename' | 'remove' | 'mkdir' | 'sync-directory';

/** One operation that changes the disk, with its path relative to the disk's root. */
export interface DiskStep {
  kind: DiskStepKind;
  path: string;
}

/** What a process sees of the disk when the power goes: it is gone, and so is everything it was doing. */
export class SimulatedCrash extends Error {
  constructor(readonly step?: DiskStep) {
    super(step ? `simulated power loss at ${step.kind} ${step.path}` : 'simulated power loss: this process is gone');
    this.name = 'SimulatedCrash';
  }
}

export interface SimulatedDiskOptions {
  /** The power goes instead of taking this step (counted from 0, in the order steps are asked for). */
  crashAt?: number;
  /** This step (its index, or the first the test picks from the steps so far) fails with the errno code instead of being taken; the disk goes on. */
  failAt?: { step: number | ((step: DiskStep, before: readonly DiskStep[]) => boolean); code: string };
  /** What the disk holds: writes past it fail with ENOSPC after writing what fits, as a full disk does. */
  capacityBytes?: number;
}

type DurableNode = { kind: 'file'; data: Buffer } | { kind: 'directory'; entries: Map<string, number> };

/**
 * A disk for crash tests, in the spirit of SQLite's crash-test VFS: the
 * files live in a real directory (libraries that unpack and load models
 * read and write it directly), and beside it this keeps what would survive
 * a power cut, by the strict POSIX rules: a file's data once it was
 * fsync'd, a name (created, renamed, removed) once its directory was
 * fsync'd. `reboot()` rewrites the directory to exactly that.
 *
 * Steps run one at a time in the order asked, so a run is repeatable and
 * "crash at step k" means the same operation each time. Files are tracked
 * by inode, so a renamed file keeps its synced data; an inode freed by a
 * removal is forgotten, since a new file may reuse its number.
 */
export class SimulatedDisk implements FileSystem {
  readonly steps: DiskStep[] = [];
  private readonly durable = new Map<number, DurableNode>();
  private readonly nodes = new Map<string, number>();
  private nextNode = 0;
  private rootNode = -1;
  private dead = false;
  private failed = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly root: string,
    private readonly options: SimulatedDiskOptions,
  ) {}

  /** A disk in a new folder, in memory (/dev/shm) where the system has one, since crash tests run many short lives. */
  static async fresh(options: SimulatedDiskOptions = {}): Promise<SimulatedDisk> {
    const base = (await stat('/dev/shm').then((found) => found.isDirectory(), () => false)) ? '/dev/shm' : tmpdir();
    return SimulatedDisk.over(await mkdtemp(join(base, 'loupe-disk-')), options);
  }

  /** A disk over `root` (created if missing), whose present content counts as durable. */
  static async over(root: string, options: SimulatedDiskOptions = {}): Promise<SimulatedDisk> {
    await mkdir(root, { recursive: true });
    const disk = new SimulatedDisk(root, options);
    disk.rootNode = await disk.snapshot(root);
    return disk;
  }

  /** Whether the power went: every later operation fails. */
  get crashed(): boolean {
    return this.dead;
  }

  /**
   * The power goes now (if it has not), then the box starts again: the
   * directory is rewritten to what was durable, and a new disk over it is
   * returned. This one stays dead.
   */
  async reboot(options: SimulatedDiskOptions = {}): Promise<SimulatedDisk> {
    this.dead = true;
    await this.queue;
    await rm(this.root, { recursive: true, force: true });
    await this.materialize(this.rootNode, this.root);
    return SimulatedDisk.over(this.root, options);
  }

  open(path: string, mode: Parameters<FileSystem['open']>[1]): Promise<WritableFile> {
    return this.step('open', path, async () => {
      const inner = await nodeFileSystem.open(path, mode);
      const node = await this.keyOf(path);
      return {
        write: (data) => this.step('write', path, () => this.writeWithin(inner, path, data)),
        sync: () =>
          this.step('sync', path, async () => {
            if ((await this.keyOf(path)) !== node) throw new Error(`SimulatedDisk cannot follow ${path}: renamed while open`);
            await this.recordFile(path);
          }),
        // Closing changes nothing durable, and a dead process's files are closed too.
        close: () => inner.close(),
      };
    });
  }

  readFile(path: string): Promise<Buffer> {
    return this.serially(() => nodeFileSystem.readFile(path));
  }

  sizeOf(path: string): Promise<number | undefined> {
    return this.serially(() => nodeFileSystem.sizeOf(path));
  }

  list(directory: string): ReturnType<FileSystem['list']> {
    return this.serially(() => nodeFileSystem.list(directory));
  }

  makeDirectory(path: string): Promise<string | undefined> {
    return this.step('mkdir', path, () => nodeFileSystem.makeDirectory(path));
  }

  rename(from: string, to: string): Promise<void> {
    return this.step('rename', [from, to], async () => {
      const replaced = (await this.keyOf(from)) === (await this.keyOf(to)) ? [] : await this.keysUnder(to);
      await nodeFileSystem.rename(from, to);
      for (const key of replaced) this.nodes.delete(key);
    });
  }

  remove(path: string): Promise<void> {
    return this.step('remove', path, async () => {
      const removed = await this.keysUnder(path);
      await nodeFileSystem.remove(path);
      for (const key of removed) this.nodes.delete(key);
    });
  }

  syncFile(path: string): Promise<void> {
    return this.step('sync', path, () => this.recordFile(path));
  }

  syncDirectory(path: string): Promise<void> {
    return this.step('sync-directory', path, () => this.recordDirectory(path));
  }

  freeBytes(path: string): Promise<number> {
    const capacity = this.options.capacityBytes;
    return this.serially(async () => (capacity === undefined ? nodeFileSystem.freeBytes(path) : Math.max(0, capacity - (await this.usedBytes(this.root)))));
  }

  private step<T>(kind: DiskStepKind, paths: string | string[], perform: () => Promise<T>): Promise<T> {
    return this.serially(async () => {
      const path = [paths].flat().map((each) => relative(this.root, each)).join(' -> ');
      const step = { kind, path };
      const index = this.steps.push(step) - 1;
      if (index === this.options.crashAt) {
        this.dead = true;
        throw new SimulatedCrash(step);
      }
      const fail = this.options.failAt;
      if (fail && !this.failed && (typeof fail.step === 'number' ? index === fail.step : fail.step(step, this.steps.slice(0, index)))) {
        this.failed = true;
        throw errnoError(fail.code, kind, path);
      }
      return perform();
    });
  }

  private serially<T>(perform: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.dead) throw new SimulatedCrash();
      return perform();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeWithin(inner: WritableFile, path: string, data: Uint8Array): Promise<void> {
    const capacity = this.options.capacityBytes;
    const room = capacity === undefined ? Number.POSITIVE_INFINITY : capacity - (await this.usedBytes(this.root));
    if (data.byteLength <= room) return inner.write(data);
    if (room > 0) await inner.write(data.subarray(0, room));
    throw errnoError('ENOSPC', 'write', path);
  }

  private async recordFile(path: string): Promise<void> {
    this.durable.set(await this.nodeOf(path), { kind: 'file', data: await readFile(path) });
  }

  /** The directory's names as they are now become durable; a child never synced itself is an empty file or folder after a crash. */
  private async recordDirectory(path: string): Promise<void> {
    const entries = new Map<string, number>();
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const child = await this.nodeOf(join(path, entry.name));
      if (!this.durable.has(child)) this.durable.set(child, entry.isDirectory() ? { kind: 'directory', entries: new Map() } : { kind: 'file', data: Buffer.alloc(0) });
      entries.set(entry.name, child);
    }
    this.durable.set(await this.nodeOf(path), { kind: 'directory', entries });
  }

  private async snapshot(path: string): Promise<number> {
    const node = await this.nodeOf(path);
    if ((await lstat(path)).isDirectory()) {
      const entries = new Map<string, number>();
      for (const name of await readdir(path)) entries.set(name, await this.snapshot(join(path, name)));
      this.durable.set(node, { kind: 'directory', entries });
    } else {
      this.durable.set(node, { kind: 'file', data: await readFile(path) });
    }
    return node;
  }

  private async materialize(node: number, path: string): Promise<void> {
    const durable = this.durable.get(node);
    if (!durable) throw new Error(`SimulatedDisk lost track of ${path}`);
    if (durable.kind === 'file') return writeFile(path, durable.data);
    await mkdir(path);
    for (const [name, child] of durable.entries) await this.materialize(child, join(path, name));
  }

  private async nodeOf(path: string): Promise<number> {
    const key = await this.keyOf(path);
    if (key === undefined) throw new Error(`SimulatedDisk: ${path} does not exist`);
    let node = this.nodes.get(key);
    if (node === undefined) {
      node = this.nextNode++;
      this.nodes.set(key, node);
    }
    return node;
  }

  private async keyOf(path: string): Promise<string | undefined> {
    const stats = await lstat(path).catch(() => undefined);
    return stats && `${stats.dev}:${stats.ino}`;
  }

  private async keysUnder(path: string): Promise<string[]> {
    const stats = await lstat(path).catch(() => undefined);
    if (!stats) return [];
    const keys = [`${stats.dev}:${stats.ino}`];
    if (stats.isDirectory()) for (const name of await readdir(path)) keys.push(...(await this.keysUnder(join(path, name))));
    return keys;
  }

  private async usedBytes(path: string): Promise<number> {
    const stats = await lstat(path);
    if (!stats.isDirectory()) return stats.size;
    let total = 0;
    for (const name of await readdir(path)) total += await this.usedBytes(join(path, name));
    return total;
  }
}

function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated failure, ${syscall} '${path}'`), { code, syscall, path });
}
