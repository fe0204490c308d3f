import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually';
import { startTestBroker, type TestBroker } from './test-broker';
import { startTestDatabase, type TestDatabase } from './test-database';
import { s3ClientFor, startTestObjectStore, type TestObjectStore } from './test-object-store';

describe('test databases', () => {
  let first: TestDatabase;
  let second: TestDatabase;
  beforeAll(async () => {
    [first, second] = await Promise.all([startTestDatabase(), startTestDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('uses the server at DATABASE_URL when it is set, PGlite otherwise', () => {
    expect(first.kind).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    process.stdout.write(`test harness database: ${first.kind} (${new URL(first.url).host})\n`);
  });

  it('gives each caller its own database', async () => {
    await query(first.url, 'CREATE TABLE marker (id int)');
    await query(first.url, 'INSERT INTO marker VALUES (1)');
    const inFirst = await query(first.url, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'marker'");
    const inSecond = await query(second.url, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'marker'");
    expect(inFirst.rows[0]).toEqual({ n: 1 });
    expect(inSecond.rows[0]).toEqual({ n: 0 });
  });

  it('removes a database on stop', async () => {
    const database = await startTestDatabase();
    await query(database.url, 'SELECT 1');
    await database.stop();
    await expect(query(database.url, 'SELECT 1')).rejects.toThrow();
  });

  it('stops right after a pool ends without the server killing the closing connections', async () => {
    const database = await startTestDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: database.maxConnections });
    const errors: Error[] = [];
    pool.on('error', (error) => errors.push(error));
    const clients = await Promise.all(Array.from({ length: Math.min(4, database.maxConnections) }, () => pool.connect()));
    for (const client of clients) client.release();
    await pool.end();
    await database.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors.map((error) => error.message)).toEqual([]);
  });
});

describe('test brokers', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker?.stop());

  it('uses the broker at MQTT_URL when it is set, Aedes otherwise', () => {
    expect(broker.kind).toBe(process.env.MQTT_URL ? 'external' : 'aedes');
    process.stdout.write(`test harness broker: ${broker.kind} (${broker.url})\n`);
  });

  it('carries a QoS 1 message under the test topic root', async () => {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const received: string[] = [];
      client.on('message', (_topic, payload) => received.push(payload.toString()));
      await client.subscribeAsync(`${broker.topicRoot}/#`, { qos: 1 });
      await client.publishAsync(`${broker.topicRoot}/s1/d1/telemetry`, 'hello', { qos: 1 });
      await eventually(() => expect(received).toEqual(['hello']));
    } finally {
      await client.endAsync();
    }
  });

  it('gives each caller its own topic root', async () => {
    const other = await startTestBroker();
    await other.stop();
    expect(other.topicRoot).not.toBe(broker.topicRoot);
  });
});

describe('test object stores', () => {
  let store: TestObjectStore;
  beforeAll(async () => {
    store = await startTestObjectStore();
  });
  afterAll(() => store?.stop());

  it('uses the store at S3_ENDPOINT when it is set, s3rver otherwise', () => {
    expect(store.kind).toBe(process.env.S3_ENDPOINT ? 'external' : 's3rver');
    process.stdout.write(`test harness object store: ${store.kind} (${store.endpoint})\n`);
  });

  it('stores and returns an object through the AWS SDK', async () => {
    const s3 = new S3Client({
      endpoint: store.endpoint,
      region: store.region,
      forcePathStyle: true,
      credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    });
    try {
      await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: 'samples/a.jpg', Body: Buffer.from('jpeg bytes') }));
      const object = await s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: 'samples/a.jpg' }));
      expect(await object.Body?.transformToString()).toBe('jpeg bytes');
    } finally {
      s3.destroy();
    }
  });

  it('lets exactly one of several conditional puts of a key win, as S3 does, and counts each key\'s writes', async () => {
    const s3 = s3ClientFor(store);
    try {
      const key = 'samples/raced image.jpg';
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, writer) =>
          s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: Buffer.from(`writer ${writer}`), IfNoneMatch: '*' })).then(
            () => 'stored',
            (error: { $metadata?: { httpStatusCode?: number } }) => `refused ${error.$metadata?.httpStatusCode}`,
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'stored')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'refused 412')).toHaveLength(7);
      if (store.writes) expect(store.writes.get(key)).toBe(1);
      await s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: Buffer.from('unconditional') }));
      if (store.writes) expect(store.writes.get(key)).toBe(2);
    } finally {
      s3.destroy();
    }
  });

  it('gives s3rver as it comes, overwriting despite If-None-Match, when asked to', async () => {
    const plain = await startTestObjectStore({}, { conditionalPuts: false });
    const s3 = s3ClientFor(plain);
    try {
      const put = (body: string) => s3.send(new PutObjectCommand({ Bucket: plain.bucket, Key: 'k', Body: Buffer.from(body), IfNoneMatch: '*' }));
      await put('first');
      await put('second');
      expect(await (await s3.send(new GetObjectCommand({ Bucket: plain.bucket, Key: 'k' }))).Body?.transformToString()).toBe('second');
      expect(plain.writes?.get('k')).toBe(2);
    } finally {
      s3.destroy();
      await plain.stop();
    }
  });
});

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}
