import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker, startTestDatabase, type TestBroker, type TestDatabase } from '@loupe/testing';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type RunningCloud } from '../cloud-runtime';
import { TEST_ADMIN_PASSWORD, testCloudConfig } from '../testing/test-cloud-config';

interface OpenApiDocument {
  paths: Record<string, Record<string, { 'x-roles': string[] | 'public' | undefined }>>;
}

describe('the REST API on Postgres', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let dataDir: string;
  let cloud: RunningCloud;
  let db: pg.Client;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-api-'));
    cloud = await startCloud(
      testCloudConfig({
        dataDir,
        database,
        brokerUrl: broker.url,
        topicRoot: broker.topicRoot,
        blobs: { kind: 'folder', directory: join(dataDir, 'blobs') },
      }),
      pino({ level: 'silent' }),
    );
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    tokens.admin = await login('admin@loupe.test', TEST_ADMIN_PASSWORD);
    for (const role of ['labeler', 'reviewer', 'engineer']) {
      const email = `${role}@loupe.test`;
      const created = await call('POST', '/api/users', { token: tokens.admin, body: { email, name: role, role, password: `${role}-password-1` } });
      expect(created.status).toBe(201);
      tokens[role] = await login(email, `${role}-password-1`);
    }
  });

  afterAll(async () => {
    await db?.end();
    await cloud?.stop();
    await Promise.all([database?.stop(), broker?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, { token, body }: { token?: string; body?: unknown } = {}) {
    const response = await fetch(`${cloud.httpUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as never };
  }

  async function login(email: string, password: string): Promise<string> {
    const response = await call('POST', '/api/auth/login', { body: { email, password } });
    expect(response.status).toBe(200);
    return (response.body as { token: string }).token;
  }

  async function routeTable() {
    const document = (await call('GET', '/api/openapi.json')).body as OpenApiDocument;
    return Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({ method: method.toUpperCase(), path, roles: operation['x-roles'] })),
    );
  }

  /** A concrete URL for a route template: every parameter gets a fresh UUID. */
  const concrete = (path: string) => path.replace(/\{\w+\}/g, () => randomUUID());

  describe('roles', () => {
    it('names the roles of every route, so no route is open by mistake', async () => {
      const routes = await routeTable();
      expect(routes.length).toBeGreaterThan(10);
      expect(routes.filter((route) => route.roles === undefined)).toEqual([]);
      expect(routes.filter((route) => route.roles === 'public').map((route) => `${route.method} ${route.path}`)).toEqual([
        'POST /api/auth/login',
        'GET /api/openapi.json',
        'GET /healthz',
        'GET /metrics',
      ]);
    });

    it('answers 403 to a labeler on every route a labeler may not call', async () => {
      const closed = (await routeTable()).filter((route) => Array.isArray(route.roles) && !route.roles.includes('labeler'));
      expect(closed.length).toBeGreaterThan(0);
      for (const route of closed) {
        const response = await call(route.method, concrete(route.path), { token: tokens.labeler, ...(route.method === 'GET' ? {} : { body: {} }) });
        expect({ route: `${route.method} ${route.path}`, status: response.status }).toEqual({ route: `${route.method} ${route.path}`, status: 403 });
        expect((response.body as { message: string }).message).toMatch(/needs the role .*; you are labeler/);
      }
    });

    it('answers 401 on every route but the public ones without a session', async () => {
      for (const route of (await routeTable()).filter((entry) => entry.roles !== 'public')) {
        const response = await call(route.method, concrete(route.path), route.method === 'GET' ? {} : { body: {} });
        expect({ route: `${route.method} ${route.path}`, status: response.status }).toEqual({ route: `${route.method} ${route.path}`, status: 401 });
      }
      expect((await call('GET', '/api/auth/me', { token: 'made-up' })).status).toBe(401);
    });
  });

  describe('sign-in', () => {
    it('refuses a wrong password without saying whether the email exists', async () => {
      const wrongPassword = await call('POST', '/api/auth/login', { body: { email: 'admin@loupe.test', password: 'nope' } });
      const unknownEmail = await call('POST', '/api/auth/login', { body: { email: 'nobody@loupe.test', password: 'nope' } });
      expect(wrongPassword).toEqual(unknownEmail);
      expect(wrongPassword.status).toBe(401);
    });

    it('says which fields to fix', async () => {
      const response = await call('POST', '/api/users', { token: tokens.admin, body: { email: 'not-an-email', role: 'boss', password: 'short' } });
      expect(response.status).toBe(400);
      expect((response.body as { message: string }).message).toMatch(/email: email must be an email address; name: .*; role: role must be one of .*; password: password must have at least 12/);
    });

    it('ends a session on logout', async () => {
      const token = await login('engineer@loupe.test', 'engineer-password-1');
      expect((await call('GET', '/api/auth/me', { token })).body).toMatchObject({ email: 'engineer@loupe.test', role: 'engineer' });
      expect((await call('POST', '/api/auth/logout', { token })).status).toBe(204);
      expect((await call('GET', '/api/auth/me', { token })).status).toBe(401);
    });
  });

  describe('labeling', () => {
    it("queues a new project's stored samples, and takes a labeler's answers through claim and submit", async () => {
      const modelName = `model-${randomUUID()}`;
      const ids = [randomUUID(), randomUUID()];
      await db.query(
        `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                              prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
         SELECT v.id, 'plant', 'aoi-1', 'line-1', '', now(), $2, '1', 'reject', '{}'::jsonb, v.priority, 'margin',
                'samples/' || v.id, repeat('0', 64), 1, 'image/jpeg'
         FROM unnest($1::uuid[], $3::real[]) AS v(id, priority)`,
        [ids, modelName, [0.9, 0.4]],
      );
      const created = await call('POST', '/api/projects', {
        token: tokens.engineer,
        body: { name: `pcb ${modelName}`, modelName, task: 'classification', classes: ['ok', 'scratch'] },
      });
      expect(created.status).toBe(201);
      const projectId = (created.body as { id: string }).id;

      const first = (await call('POST', `/api/projects/${projectId}/claims`, { token: tokens.labeler })).body as {
        claim: { sampleId: string; token: string; imageUrl: string };
        queueDepth: number;
      };
      expect(first.claim.sampleId).toBe(ids[0]);
      expect(first.queueDepth).toBe(2);
      expect(first.claim.imageUrl).toBe(`/api/samples/${ids[0]}/image`);
      const submitted = await call('POST', `/api/claims/${ids[0]}/submit`, {
        token: tokens.labeler,
        body: { token: first.claim.token, className: 'scratch', spentMs: 1_200 },
      });
      expect(submitted).toEqual({ status: 200, body: { state: 'done' } });
      const again = await call('POST', `/api/claims/${ids[0]}/submit`, {
        token: tokens.labeler,
        body: { token: first.claim.token, className: 'ok', spentMs: 10 },
      });
      expect(again.status).toBe(409);
      expect((again.body as { message: string }).message).toMatch(/lease .* has expired or belongs to someone else/);

      const second = (await call('POST', `/api/projects/${projectId}/claims`, { token: tokens.labeler })).body as {
        claim: { sampleId: string; token: string };
      };
      expect(second.claim.sampleId).toBe(ids[1]);
      expect((await call('POST', `/api/claims/${ids[1]}/skip`, { token: tokens.labeler, body: { token: second.claim.token } })).status).toBe(204);
      expect((await call('POST', `/api/projects/${projectId}/claims`, { token: tokens.labeler })).body).toEqual({ claim: null, queueDepth: 1 });

      const { rows } = await db.query('SELECT sample_id, answer_key, answer, spent_ms FROM labels WHERE project_id = $1', [projectId]);
      expect(rows).toEqual([{ sample_id: ids[0], answer_key: 'scratch', answer: { className: 'scratch' }, spent_ms: 1_200 }]);
    });

    it('refuses a project that repeats a class or takes a model another project has', async () => {
      const body = { name: `p-${randomUUID()}`, modelName: `m-${randomUUID()}`, task: 'classification', classes: ['ok'] };
      expect((await call('POST', '/api/projects', { token: tokens.admin, body: { ...body, classes: ['ok', 'ok'] } })).status).toBe(400);
      expect((await call('POST', '/api/projects', { token: tokens.admin, body })).status).toBe(201);
      expect((await call('POST', '/api/projects', { token: tokens.admin, body: { ...body, name: 'other' } })).status).toBe(409);
    });
  });
});
