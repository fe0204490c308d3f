import { readFile, writeFile } from 'node:fs/promises';

/** A process's resident memory now and its peak since the last reset, in bytes, from /proc (Linux). */
export async function residentMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/**
 * How far the process's resident memory peaked above where it stood while
 * `work` ran, in bytes. The peak (VmHWM) is reset first by writing 5 to
 * /proc/PID/clear_refs (Linux 4.0+, the process's owner or root), so a
 * buffer held for a moment counts even if it is freed before the end.
 */
export async function peakMemoryGrowth(pid: number, work: () => Promise<unknown>): Promise<number> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
  const before = await residentMemory(pid);
  await work();
  const after = await residentMemory(pid);
  return after.peak - before.rss;
}
