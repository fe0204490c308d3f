import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Another live process already serves this data directory. */
export class DataDirectoryInUseError extends Error {
  constructor(directory: string, pid: number) {
    super(`data directory ${directory} is in use by process ${pid}; stop it first, or set DATA_DIR to another folder`);
    this.name = 'DataDirectoryInUseError';
  }
}

/**
 * An exclusive claim on the embedded services' data directory. Two PGlite
 * instances on one folder would corrupt it. A lock left by a killed process
 * is taken over: the pid it names is no longer alive.
 */
export class DataDirectoryLock {
  private constructor(private readonly file: string) {}

  static async acquire(directory: string): Promise<DataDirectoryLock> {
    await mkdir(directory, { recursive: true });
    const file = join(directory, 'cloud.pid');
    for (;;) {
      try {
        await writeFile(file, String(process.pid), { flag: 'wx' });
        return new DataDirectoryLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirectoryInUseError(directory, holder);
      }
      await rm(file, { force: true });
    }
  }

  /** Removes the lock file, unless another process has taken it over meanwhile. */
  async release(): Promise<void> {
    const holder = (await readFile(this.file, 'utf8').catch(() => '')).trim();
    if (holder === String(process.pid)) await rm(this.file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
