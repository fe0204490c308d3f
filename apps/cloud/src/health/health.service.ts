import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, DATABASE, MQTT_LINK } from '../infrastructure.tokens';
import type { MqttLink } from '@loupe/mqtt';
import type { BlobStore } from '../blobs/blob-store';
import type { Database } from '../database/database';

export interface CheckResult {
  status: 'ok' | 'failing';
  latencyMs: number;
  detail?: string;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: { database: CheckResult; broker: CheckResult; blobStore: CheckResult };
}

const CHECK_TIMEOUT_MS = 2_000;

/** Checks every dependency the cloud needs to do its work. */
@Injectable()
export class HealthService {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(MQTT_LINK) private readonly link: MqttLink,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  async report(): Promise<HealthReport> {
    const [database, broker, blobStore] = await Promise.all([
      timed(() => this.database.ping()),
      timed(() => this.brokerCheck()),
      timed(async () => {
        await this.blobs.check();
        return this.blobs.location;
      }),
    ]);
    const healthy = [database, broker, blobStore].every((check) => check.status === 'ok');
    return { status: healthy ? 'ok' : 'unavailable', checks: { database, broker, blobStore } };
  }

  private brokerCheck(): Promise<string> {
    if (!this.link.connected) return Promise.reject(new Error(`not connected (${this.link.state})`));
    return Promise.resolve(`MQTT ${this.link.protocolVersion === 5 ? '5' : '3.1.1'}`);
  }
}

async function timed(check: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'ok', latencyMs: elapsed(started), ...(typeof detail === 'string' ? { detail } : {}) };
  } catch (error) {
    return { status: 'failing', latencyMs: elapsed(started), detail: describe(error) };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(describe).join('; ');
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
