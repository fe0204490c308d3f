import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { dirname, join } from 'node:path';
import { assertValidBlobKey, BlobConflictError, type BlobStore } from './blob-store';

/**
 * Blobs as files under one folder, for a single machine. A blob appears
 * whole or not at all, and once: it is written to a temporary file and
 * fsync'd, then hard-linked to its key, which fails if the key exists
 * (exclusive create, like `open(..., 'wx')`, but of a finished file; a
 * rename would replace what is there). Then the folder is fsync'd so the
 * link survives power loss. The folder needs a filesystem with hard links
 * (any local POSIX one).
 */
export class FolderBlobStore implements BlobStore {
  readonly location: string;

  constructor(private readonly directory: string) {
    this.location = `folder ${directory}`;
  }

  /** A folder keeps no metadata, so the content type is not stored. */
  async put(key: string, body: Buffer, _contentType: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.partial`;
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await link(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Only whole files are ever linked, so what is there is another writer's finished blob.
      if (!(await readFile(path)).equals(body)) throw new BlobConflictError(key);
    } finally {
      await unlink(temporary);
    }
    // Also when another writer linked it: its folder fsync may not have happened yet.
    const folder = await open(dirname(path), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async open(key: string, from = 0): Promise<{ stream: Readable; bytes: number } | undefined> {
    const path = this.pathOf(key);
    const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return stats && { stream: createReadStream(path, { start: from }), bytes: stats.size };
  }

  /** Files are only reached through the cloud. */
  downloadUrl(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  async check(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await access(this.directory, constants.W_OK);
  }

  private pathOf(key: string): string {
    assertValidBlobKey(key);
    return join(this.directory, key);
  }
}
