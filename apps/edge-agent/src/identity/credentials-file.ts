import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { enrollResponseSchema } from '@loupe/api-contracts';
import { nodeFileSystem } from '../storage/file-system';
import { z } from 'zod';

/** What the box keeps of its enrollment: who it is and the secret it signs in with. */
export const deviceCredentialsSchema = enrollResponseSchema.extend({ enrolledAt: z.iso.datetime() });
export type DeviceCredentials = z.infer<typeof deviceCredentialsSchema>;

/** The credentials file, or undefined when the box has none yet. A damaged file is an error, never a reason to enroll again. */
export async function readCredentialsFile(path: string): Promise<DeviceCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return deviceCredentialsSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new Error(
      `DEVICE_CREDENTIALS_FILE ${path} is not a credentials file written by the agent (${(error as Error).message}); ` +
        'restore it, or delete it and enroll the box again with a new ENROLLMENT_TOKEN',
      { cause: error },
    );
  }
}

/**
 * Writes `content` to `path` so that a power cut leaves the old file or the
 * new one, never a torn one: written to a temporary file created with its
 * final mode (a secret is never readable by others, not even for a moment),
 * fsync'd, renamed into place, and the rename made durable by syncing the
 * directory.
 */
export async function writeFileAtomically(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
  await nodeFileSystem.syncDirectory(dirname(path));
}
