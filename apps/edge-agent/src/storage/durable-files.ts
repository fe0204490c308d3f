import { dirname, join, relative, sep } from 'node:path';
import type { FileSystem } from './file-system';

// What survives a power cut is what reached the disk, not what a write()
// returned for: data is fsync'd before the rename that publishes it, and
// the directory is fsync'd after, so the new name itself is on disk
// (rename(2) is atomic, but durable only once its directory is synced).
// A new directory's name lives in its parent, which is synced the same way.

/** Replaces `path` with `data` so that a crash at any moment leaves the old content or the new, never a mix; no temporary file outlives a failure. */
export async function writeFileDurably(files: FileSystem, path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`;
  try {
    const file = await files.open(temporary, 'truncate');
    try {
      await file.write(typeof data === 'string' ? Buffer.from(data) : data);
      await file.sync();
    } finally {
      await file.close();
    }
    await files.rename(temporary, path);
  } catch (error) {
    await files.remove(temporary).catch(() => undefined);
    throw error;
  }
  await files.syncDirectory(dirname(path));
}

/** Renames and makes the new name durable: data of `from` must already be synced. */
export async function renameDurably(files: FileSystem, from: string, to: string): Promise<void> {
  await files.rename(from, to);
  await files.syncDirectory(dirname(to));
  if (dirname(from) !== dirname(to)) await files.syncDirectory(dirname(from));
}

/** fsyncs every file and directory under `directory`, so a later rename publishes complete files. */
export async function syncTree(files: FileSystem, directory: string): Promise<void> {
  for (const entry of await files.list(directory)) {
    const path = join(directory, entry.name);
    if (entry.directory) await syncTree(files, path);
    else await files.syncFile(path);
  }
  await files.syncDirectory(directory);
}

/**
 * Creates `directory` and its missing parents so that they survive power
 * loss: each new directory's parent is synced, top down. Without it a
 * folder made at first start could vanish with everything synced into it.
 */
export async function makeDirectoryDurably(files: FileSystem, directory: string): Promise<void> {
  const first = await files.makeDirectory(directory);
  if (first === undefined) return;
  const created = relative(first, directory).split(sep).filter((segment) => segment.length > 0);
  let path = first;
  await files.syncDirectory(dirname(path));
  for (const segment of created) {
    await files.syncDirectory(path);
    path = join(path, segment);
  }
}
