/** What the outbox knows about a stored sample without reading it. */
export interface StoredSample {
  id: string;
  /** Higher is more valuable; the outbox sends highest first and evicts lowest first. */
  priority: number;
  capturedAtMs: number;
  bytes: number;
  /** Delivery attempts counted so far (see SampleUplink); kept in the file name, so they outlive restarts. */
  attempts: number;
}

/** A sample as its producer describes it; the outbox measures its bytes and counts its attempts. */
export type NewSample = Omit<StoredSample, 'bytes' | 'attempts'>;

/** The samples the outbox has handed out and not yet had back (removed, released or quarantined), at most. */
export interface InFlightWindow {
  count: number;
  /** One sample always fits, so none is too big to go. */
  bytes: number;
}

/** Puts `sample` into `line`, kept in sending order: highest priority first, then oldest first. */
export function insertInSendingOrder(line: StoredSample[], sample: StoredSample): void {
  let low = 0;
  let high = line.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (comesBefore(line[middle]!, sample)) low = middle + 1;
    else high = middle;
  }
  line.splice(low, 0, sample);
}

function comesBefore(a: StoredSample, b: StoredSample): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.capturedAtMs <= b.capturedAtMs;
}

/** Sample ids the outbox can name files after (the agent's are UUIDs). */
export const OUTBOX_SAMPLE_ID = /^[A-Za-z0-9-]{1,64}$/;

// <priority as 0-1000000>_<capture ms>_<sample id>[.<attempts>].sample
// A sample never attempted has no count, as in outboxes written before
// attempts were counted.
const FILE_NAME = /^(\d{7})_(\d{13,})_([A-Za-z0-9-]{1,64})(?:\.(\d{1,6}))?\.sample$/;

/** The file name that carries a sample's priority, capture time, id and attempts, so listing a folder is enough to reopen it. */
export function fileNameOf(sample: Omit<StoredSample, 'bytes'>): string {
  const priority = Math.round(Math.min(1, Math.max(0, sample.priority)) * 1_000_000);
  const attempts = sample.attempts > 0 ? `.${sample.attempts}` : '';
  return `${String(priority).padStart(7, '0')}_${String(Math.round(sample.capturedAtMs)).padStart(13, '0')}_${sample.id}${attempts}.sample`;
}

/** The sample a file name describes, or undefined for a file the outbox did not write. */
export function parseFileName(name: string): Omit<StoredSample, 'bytes'> | undefined {
  const match = FILE_NAME.exec(name);
  if (!match) return undefined;
  return { priority: Number(match[1]) / 1_000_000, capturedAtMs: Number(match[2]), id: match[3]!, attempts: Number(match[4] ?? 0) };
}
