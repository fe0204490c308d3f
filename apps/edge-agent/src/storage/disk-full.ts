/** The errno codes of a write refused for lack of space: the device is full (ENOSPC) or the user's quota is (EDQUOT). */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** Whether `error` says the disk (or quota) is full: waiting and trying again does not help, freeing space does. */
export function isDiskFull(error: unknown): boolean {
  return error instanceof Error && DISK_FULL_CODES.has((error as NodeJS.ErrnoException).code ?? '');
}
