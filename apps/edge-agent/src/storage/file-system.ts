import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';

/** A file open for writing. */
export interface WritableFile {
  write(data: Uint8Array): Promise<void>;
  /** fsync: the data written so far survives power loss (its name does only once its directory is synced). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** `create` fails if the file exists; `truncate` empties or creates it; `append` adds to it or creates it. */
export type OpenMode = 'create' | 'truncate' | 'append';

export interface DirectoryEntry {
  name: string;
  directory: boolean;
}

/**
 * The file operations the outbox and OTA make, as a port: production uses
 * the disk (nodeFileSystem); crash tests substitute a disk that forgets
 * whatever was not made durable when the power goes (testing/simulated-disk).
 * Every write, sync, rename and removal the two do goes through here, so a
 * test can stop the world at each of them.
 */
export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<WritableFile>;
  readFile(path: string): Promise<Buffer>;
  /** The size of a file, undefined when there is none. */
  sizeOf(path: string): Promise<number | undefined>;
  /** The entries of a directory; none when it does not exist. */
  list(directory: string): Promise<DirectoryEntry[]>;
  /** Creates a directory and any missing parents; resolves with the first directory it created, if any. */
  makeDirectory(path: string): Promise<string | undefined>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or a directory tree; nothing happens if there is none. */
  remove(path: string): Promise<void>;
  /** fsync of an existing file. */
  syncFile(path: string): Promise<void>;
  /** fsync of a directory: the names created, renamed or removed in it survive power loss. */
  syncDirectory(path: string): Promise<void>;
  /** Bytes an unprivileged process may still write on the filesystem holding `path`. */
  freeBytes(path: string): Promise<number>;
}

class NodeFile implements WritableFile {
  constructor(private readonly handle: FileHandle) {}

  async write(data: Uint8Array): Promise<void> {
    await this.handle.writeFile(data);
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

const FLAGS: Record<OpenMode, string> = { create: 'wx', truncate: 'w', append: 'a' };

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The disk, through node:fs. */
export const nodeFileSystem: FileSystem = {
  open: async (path, mode) => new NodeFile(await open(path, FLAGS[mode])),
  readFile: (path) => readFile(path),
  sizeOf: (path) =>
    stat(path).then(
      (stats) => stats.size,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      },
    ),
  list: async (directory) => {
    try {
      return (await readdir(directory, { withFileTypes: true })).map((entry) => ({ name: entry.name, directory: entry.isDirectory() }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  },
  makeDirectory: (path) => mkdir(path, { recursive: true }),
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { recursive: true, force: true }),
  syncFile: syncPath,
  syncDirectory: syncPath,
  freeBytes: async (path) => {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  },
};
