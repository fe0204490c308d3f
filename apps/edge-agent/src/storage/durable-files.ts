import { open, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// What survives a power cut is what reached the disk, not what a write()
// returned for: data is fsync'd before the rename that publishes it, and
// the directory is fsync'd after, so the new name itself is on disk
// (rename(2) is atomic, but durable only once its directory is synced).

/** Flushes a directory's entries (names created, renamed or removed in it) to the disk. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` with `data` so that a crash at any moment leaves the old content or the new, never a mix. */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, data, { flush: true });
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

/** Renames and makes the new name durable: data of `from` must already be synced. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(dirname(to));
  if (dirname(from) !== dirname(to)) await syncDirectory(dirname(from));
}

/** fsyncs every file and directory under `directory`, so a later rename publishes complete files. */
export async function syncTree(directory: string): Promise<void> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      await syncTree(path);
      continue;
    }
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await syncDirectory(directory);
}
