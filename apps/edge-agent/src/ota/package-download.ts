import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff } from '@loupe/service';
import type { DesiredModel } from '@loupe/device-state';
import type { Logger } from 'pino';
import { isDiskFull } from '../storage/disk-full';
import { renameDurably } from '../storage/durable-files';
import type { WritableFile } from '../storage/file-system';
import { NO_FAULT_POINTS, type FaultPoints } from './fault-points';
import type { ModelStore } from './model-store';
import type { OtaMetrics } from './ota-metrics';
import { UpdateStepError } from './update-step.error';

export interface DownloadSettings {
  /** A download that receives nothing for this long is cut and resumed. */
  stallTimeoutMs: number;
  /** Free bytes an update leaves on the models disk after its download and unpacked copy (OTA_DISK_RESERVE_BYTES). */
  diskReserveBytes: number;
  /** The device's broker credentials, which the cloud's package route also accepts (HTTP Basic). */
  credentials?: { username: string; password: string };
  backoff?: { initialMs: number; maxMs: number };
}

/** The server refused in a way another attempt will not change. */
class FinalRefusal extends UpdateStepError {
  constructor(reason: string, message: string) {
    super('download', reason, message);
  }
}

// Worth another attempt: the server is busy or failing, not refusing us.
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const PROGRESS_EVERY_MS = 2_000;

/**
 * The download step: fetches a package into MODELS_DIR/downloads. Bytes go
 * to a `.part` file that survives restarts; each attempt asks only for what
 * is missing (`Range: bytes=N-`, RFC 9110 section 14.2), and a server that
 * answers with the whole file (200) starts it over. Never more than the
 * declared size is accepted. Network failures and server errors are
 * retried with capped, jittered backoff until the download completes or
 * the update is abandoned (the signal); refusals (404, 401, ...) end it.
 * The finished file is fsync'd and renamed to its final name.
 *
 * A full disk ends it too (`disk-full`): before the first byte, unless the
 * rest of the package and its unpacked copy fit with the reserve to spare,
 * and at once when a write meets ENOSPC or EDQUOT, deleting the partial
 * file so it does not hold the space the outbox needs.
 */
export class PackageDownload {
  private readonly log: Logger;

  constructor(
    private readonly store: ModelStore,
    private readonly settings: DownloadSettings,
    private readonly metrics: OtaMetrics,
    logger: Logger,
    private readonly faults: FaultPoints = NO_FAULT_POINTS,
  ) {
    this.log = logger.child({ component: 'package-download' });
  }

  /** Resolves with the path of the complete package file. */
  async run(desired: DesiredModel, signal: AbortSignal): Promise<string> {
    const { sha256, size, url } = desired.package;
    const final = this.store.packageFile(sha256);
    const done = (await this.store.files.sizeOf(final)) === size;
    await this.checkSpace(desired, done ? size : ((await this.store.files.sizeOf(this.store.partFile(sha256))) ?? 0));
    if (done) return final;
    try {
      await this.fetchAll(desired, signal);
      this.faults.reached('download:bytes-synced');
      await renameDurably(this.store.files, this.store.partFile(sha256), final);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      await this.store.files.remove(this.store.partFile(sha256));
      throw new FinalRefusal('disk-full', `the disk under ${this.store.root} is full (${(error as NodeJS.ErrnoException).code}); the partial package is deleted`);
    }
    this.log.info({ url, bytes: size }, 'package downloaded');
    return final;
  }

  /** Refuses to start unless the rest of the package and its unpacked copy fit, with the reserve left free. */
  private async checkSpace(desired: DesiredModel, have: number): Promise<void> {
    const { size } = desired.package;
    const needed = size - have + size + this.settings.diskReserveBytes;
    const free = await this.store.files.freeBytes(this.store.root);
    if (free >= needed) return;
    throw new FinalRefusal(
      'disk-full',
      `the package needs ${needed} bytes free under ${this.store.root} (${size - have} still to download, ${size} to unpack, ${this.settings.diskReserveBytes} of OTA_DISK_RESERVE_BYTES); ${free} are free`,
    );
  }

  /** Attempts until the .part file holds the whole package, fsync'd. */
  private async fetchAll(desired: DesiredModel, signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.settings.backoff ?? { initialMs: 500, maxMs: 60_000 });
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        return await this.attempt(desired, signal);
      } catch (error) {
        if (signal.aborted || error instanceof FinalRefusal || isDiskFull(error)) throw error;
        const delayMs = backoff.next();
        this.log.warn({ url: desired.package.url, attempt, retryInMs: delayMs, reason: (error as Error).message }, 'package download interrupted; resuming');
        await sleep(delayMs, undefined, { signal });
      }
    }
  }

  private async attempt(desired: DesiredModel, signal: AbortSignal): Promise<void> {
    const { sha256, size: declared, url } = desired.package;
    const { files } = this.store;
    const part = this.store.partFile(sha256);
    let have = (await files.sizeOf(part)) ?? 0;
    if (have > declared) {
      await files.remove(part);
      have = 0;
    }
    if (have === declared) return;

    const stall = new StallTimer(this.settings.stallTimeoutMs);
    try {
      const response = await fetch(url, {
        headers: { ...(have > 0 ? { Range: `bytes=${have}-` } : {}), ...this.authorization() },
        signal: AbortSignal.any([signal, stall.signal]),
        redirect: 'follow',
      });
      const start = await this.startOf(response, have, declared, part);
      const file = await files.open(part, start === 0 ? 'truncate' : 'append');
      try {
        await this.receive(response, file, start, desired, stall);
        await file.sync();
      } finally {
        await file.close();
      }
    } finally {
      stall.clear();
    }
    const got = (await files.sizeOf(part)) ?? 0;
    if (got < declared) throw new Error(`the connection ended after ${got} of ${declared} bytes`);
    this.log.debug({ url, sha256 }, 'package bytes complete');
  }

  /** Where the body starts in the file, from the response status and headers; throws for answers that are not the package. */
  private async startOf(response: Response, have: number, declared: number, part: string): Promise<number> {
    const { url } = response;
    if (response.status === 416) {
      // Our partial file does not fit what the server has: start over.
      await response.body?.cancel();
      await this.store.files.remove(part);
      throw new Error(`the server cannot serve bytes from ${have} on (416); starting over`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      const message = `${url} answered ${response.status} ${response.statusText}`;
      if (RETRYABLE_STATUS.has(response.status)) throw new Error(message);
      throw new FinalRefusal(`http-${response.status}`, `${message}${response.status === 401 || response.status === 403 ? ' (check MQTT_USERNAME and MQTT_PASSWORD)' : ''}`);
    }
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== have) {
        await response.body?.cancel();
        throw new Error(`the server answered a range request for bytes ${have}- with Content-Range "${response.headers.get('content-range')}"`);
      }
      if (range[3] !== '*' && Number(range[3]) !== declared) {
        await response.body?.cancel();
        throw new FinalRefusal('size-mismatch', `the server's package is ${range[3]} bytes; the desired state declares ${declared}`);
      }
      return have;
    }
    if (Number.isFinite(length) && length > declared) {
      await response.body?.cancel();
      throw new FinalRefusal('too-large', `the server sends ${length} bytes; the desired state declares ${declared}`);
    }
    return 0;
  }

  private async receive(response: Response, file: WritableFile, start: number, desired: DesiredModel, stall: StallTimer): Promise<void> {
    const { size: declared, url } = desired.package;
    if (!response.body) return;
    let received = start;
    let loggedAt = performance.now();
    let first = true;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      stall.touch();
      if (received + chunk.byteLength > declared) {
        await response.body.cancel().catch(() => undefined);
        throw new FinalRefusal('too-large', `the server sent more than the declared ${declared} bytes; refused`);
      }
      await file.write(chunk);
      if (first) this.faults.reached('download:receiving');
      first = false;
      received += chunk.byteLength;
      this.metrics.downloadBytes.inc(chunk.byteLength);
      if (performance.now() - loggedAt >= PROGRESS_EVERY_MS || received === declared) {
        loggedAt = performance.now();
        this.log.info({ url, bytes: received, of: declared, percent: Math.floor((received / declared) * 100) }, 'package download progress');
      }
    }
  }

  private authorization(): Record<string, string> {
    const credentials = this.settings.credentials;
    if (!credentials) return {};
    return { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` };
  }
}

/** Aborts when nothing arrived for `timeoutMs`: a half-open TCP connection would otherwise hang a download for hours. */
class StallTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {
    this.timer = this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = this.arm();
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  private arm(): NodeJS.Timeout {
    return setTimeout(() => this.controller.abort(new Error(`no data for ${this.timeoutMs} ms`)), this.timeoutMs);
  }
}
