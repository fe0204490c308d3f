/**
 * bench:ingest phase (e): the cloud's ingest rate with about 1% poison mixed
 * into the load, over the same load without it, in one run. Four devices
 * publish SampleUpload payloads straight to the broker (QoS 1, 64 in flight
 * each; plain clients, so nothing screens what they send), all encoded
 * beforehand. A round is the clean load, then the same load with every
 * hundredth upload replaced by poison: a NUL in unit_serial, an oversize
 * station_id, a media type the image's bytes belie, an undecodable payload,
 * a captured_at too old, an id stored for another device. After an
 * uncounted warm-up, which of the two goes first alternates from round to
 * round (clean, poison, poison, clean, ...), which cancels a steady drift
 * such as the tables growing. A phase's rate is its valid samples over the time from its first
 * publish to its last valid row's received_at in Postgres.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SampleUpload, SelectionReason } from '@loupe/proto';
import { uniqueName } from '@loupe/testing';
import mqtt from 'mqtt';
import type pg from 'pg';

const DEVICES = 4;
const WINDOW = 64;
const POISON_EVERY = 100;
const POISON_KINDS = ['nul_serial', 'oversize_field', 'wrong_media_type', 'undecodable', 'too_old', 'id_conflict'] as const;
type PoisonKind = (typeof POISON_KINDS)[number];

export interface PoisonBenchOptions {
  brokerUrl: string;
  topicRoot: string;
  db: pg.Client;
  /** The cloud's /metrics, to count its reconnects. */
  metricsUrl: string;
  samples: number;
  imageBytes: number;
  rounds: number;
  /** CPU seconds the cloud process has used, where that can be read. */
  cloudCpuSeconds: () => Promise<number | undefined>;
}

export interface PoisonBenchResult {
  cleanRate: number;
  poisonRate: number;
  /** The cloud's CPU per valid sample in each kind of phase: steadier than the rates on a busy machine. */
  cloudCpuMs?: { clean: number; poison: number };
  poisoned: number;
  /** Connects of the cloud's links during the phases: 0 unless something cost it its connection. */
  reconnects: number;
}

interface Phase {
  site: string;
  /** Per device, its payloads in publishing order. */
  streams: Buffer[][];
  valid: number;
  poisoned: number;
}

function upload(site: string, deviceId: string, image: Buffer, overrides: Partial<SampleUpload> = {}): SampleUpload {
  return SampleUpload.fromPartial({
    sampleId: randomUUID(),
    device: { siteId: site, deviceId },
    stationId: 'line-1',
    unitSerial: `SN-${randomBytes(4).toString('hex')}`,
    capturedAt: new Date(),
    model: { name: 'pcb-aoi', version: '1', sha256: '' },
    prediction: { verdict: 'reject', scores: [{ label: 'Defective', score: 0.55 }], boxes: [] },
    image,
    imageMediaType: 'image/jpeg',
    priority: Math.random(),
    reason: SelectionReason.SELECTION_REASON_MARGIN,
    attempt: 1,
    ...overrides,
  });
}

const encode = (sample: SampleUpload) => Buffer.from(SampleUpload.encode(sample).finish());

function poison(kind: PoisonKind, site: string, deviceId: string, image: Buffer, storedElsewhere: string): Buffer {
  switch (kind) {
    case 'nul_serial':
      return encode(upload(site, deviceId, image, { unitSerial: 'SN-0042\u0000\u0000' }));
    case 'oversize_field':
      return encode(upload(site, deviceId, image, { stationId: 's'.repeat(4_096) }));
    case 'wrong_media_type':
      return encode(upload(site, deviceId, image, { imageMediaType: 'image/png' }));
    case 'undecodable':
      return encode(upload(site, deviceId, image)).subarray(0, 1_000);
    case 'too_old':
      return encode(upload(site, deviceId, image, { capturedAt: new Date(Date.now() - 365 * 24 * 3_600_000) }));
    case 'id_conflict':
      return encode(upload(site, deviceId, image, { sampleId: storedElsewhere }));
  }
}

/** Bytes that start like a JPEG and are otherwise random, so none is a duplicate. */
const jpeg = (bytes: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(bytes - 4)]);

function preparePhase(options: PoisonBenchOptions, label: string, storedElsewhere: string | undefined): Phase {
  const site = uniqueName(`bench-${label}`).slice(0, 60);
  const perDevice = Math.ceil(options.samples / DEVICES);
  let valid = 0;
  let poisoned = 0;
  const streams = Array.from({ length: DEVICES }, (_, device) =>
    Array.from({ length: perDevice }, (_, index) => {
      const deviceId = `aoi-${device + 1}`;
      const image = jpeg(options.imageBytes);
      const position = device * perDevice + index;
      if (storedElsewhere !== undefined && position % POISON_EVERY === POISON_EVERY / 2) {
        return poison(POISON_KINDS[poisoned++ % POISON_KINDS.length]!, site, deviceId, image, storedElsewhere);
      }
      valid++;
      return encode(upload(site, deviceId, image));
    }),
  );
  return { site, streams, valid, poisoned };
}

async function count(db: pg.Client, sql: string, values: unknown[]): Promise<number> {
  return (await db.query<{ n: number }>(sql, values)).rows[0]?.n ?? 0;
}

async function until(done: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Publishes a phase's load and returns its rate: valid samples stored per second. */
async function runPhase(options: PoisonBenchOptions, devices: mqtt.MqttClient[], phase: Phase): Promise<number> {
  const started = Date.now();
  await Promise.all(
    devices.map(async (client, device) => {
      const topic = `${options.topicRoot}/${phase.site}/aoi-${device + 1}/samples`;
      const stream = phase.streams[device]!;
      let next = 0;
      await Promise.all(
        Array.from({ length: WINDOW }, async () => {
          while (next < stream.length) await client.publishAsync(topic, stream[next++]!, { qos: 1 });
        }),
      );
    }),
  );
  const stored = () => count(options.db, 'SELECT count(*)::int AS n FROM samples WHERE site_id = $1', [phase.site]);
  await until(async () => (await stored()) >= phase.valid, 600_000, `storing ${phase.valid} samples of ${phase.site}`);
  const last = await options.db.query<{ at: Date }>('SELECT max(received_at) AS at FROM samples WHERE site_id = $1', [phase.site]);
  const seconds = (last.rows[0]!.at.getTime() - started) / 1000;
  const letters = () => count(options.db, 'SELECT count(*)::int AS n FROM dead_letters WHERE site_id = $1', [phase.site]);
  await until(async () => (await letters()) >= phase.poisoned, 60_000, `dead-lettering ${phase.poisoned} poison samples of ${phase.site}`);
  const [rows, deadLetters] = [await stored(), await letters()];
  if (rows !== phase.valid || deadLetters !== phase.poisoned) {
    throw new Error(`${phase.site}: ${rows} stored of ${phase.valid} valid, ${deadLetters} dead letters of ${phase.poisoned} poison`);
  }
  return phase.valid / seconds;
}

async function connects(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((each) => each.startsWith('loupe_cloud_mqtt_connects_total '));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

export async function poisonRatio(options: PoisonBenchOptions): Promise<PoisonBenchResult> {
  // Any sample stored before: the poisoned load reuses its id from other devices.
  const storedElsewhere = (await options.db.query<{ id: string }>('SELECT id FROM samples LIMIT 1')).rows[0]?.id;
  if (storedElsewhere === undefined) throw new Error('the poison phase needs a stored sample to conflict with; run it after the others');
  const devices = await Promise.all(Array.from({ length: DEVICES }, () => mqtt.connectAsync(options.brokerUrl, { clientId: uniqueName('bench-device') })));
  const totals = { clean: { valid: 0, seconds: 0, cpuSeconds: 0 }, poison: { valid: 0, seconds: 0, cpuSeconds: 0 } };
  let cpuKnown = true;
  let poisoned = 0;
  let reconnects = 0;
  try {
    // Uncounted: the first phase would otherwise pay for connections, caches and code not yet warm.
    await runPhase(options, devices, preparePhase(options, 'warmup', undefined));
    for (let round = 0; round < options.rounds; round++) {
      // Alternating which goes first, so neither gets all of the warm-up or of the grown tables.
      for (const kind of round % 2 === 0 ? (['clean', 'poison'] as const) : (['poison', 'clean'] as const)) {
        const phase = preparePhase(options, kind, kind === 'poison' ? storedElsewhere : undefined);
        const [connectsBefore, cpuBefore] = [await connects(options.metricsUrl), await options.cloudCpuSeconds()];
        const rate = await runPhase(options, devices, phase);
        const cpuAfter = await options.cloudCpuSeconds();
        reconnects += (await connects(options.metricsUrl)) - connectsBefore;
        if (cpuBefore === undefined || cpuAfter === undefined) cpuKnown = false;
        else totals[kind].cpuSeconds += cpuAfter - cpuBefore;
        totals[kind].valid += phase.valid;
        totals[kind].seconds += phase.valid / rate;
        poisoned += phase.poisoned;
      }
    }
  } finally {
    await Promise.all(devices.map((client) => client.endAsync()));
  }
  const cpuMs = (kind: 'clean' | 'poison') => (totals[kind].cpuSeconds * 1000) / totals[kind].valid;
  return {
    cleanRate: totals.clean.valid / totals.clean.seconds,
    poisonRate: totals.poison.valid / totals.poison.seconds,
    ...(cpuKnown ? { cloudCpuMs: { clean: cpuMs('clean'), poison: cpuMs('poison') } } : {}),
    poisoned,
    reconnects,
  };
}
