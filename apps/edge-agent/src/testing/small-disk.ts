import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A real filesystem of a few megabytes (tmpfs), mounted for one test, that fills up as a box's disk does. */
export interface SmallDisk {
  path: string;
  unmount(): Promise<void>;
}

export async function mountSmallDisk(bytes: number): Promise<SmallDisk> {
  const path = await mkdtemp(join(tmpdir(), 'loupe-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', path]);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    throw error;
  }
  return {
    path,
    unmount: async () => {
      await run('umount', [path]);
      await rm(path, { recursive: true, force: true });
    },
  };
}

/**
 * Why no small disk can be mounted on this machine (mounting needs root,
 * or CAP_SYS_ADMIN, on Linux), or undefined when it can: tried once.
 */
export async function whySmallDiskUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `mounting tmpfs needs Linux, and this is ${process.platform}`;
  const uid = process.getuid?.();
  if (uid !== 0) return `mounting tmpfs needs root, and this process runs as uid ${uid}`;
  try {
    await (await mountSmallDisk(64 * 1024)).unmount();
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${(error as Error).message.split('\n')[0]}`;
  }
}
