import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TrustedKeys, unpackPackage, verifyPackage, type SigningKey } from '@loupe/model-package';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../cloud-runtime';
import { splitOf } from '../labeling/dataset-split';
import { pcbAoiPackage } from '../testing/model-packages';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';
import { TEST_ADMIN_PASSWORD } from '../testing/test-cloud-config';

interface OpenApiDocument {
  paths: Record<string, Record<string, { 'x-roles': string[] | 'public' | undefined }>>;
}

describe('the REST API on Postgres', () => {
  let testCloud: TestCloud;
  let cloud: RunningCloud;
  let dataDir: string;
  let publisher: SigningKey;
  let db: pg.Client;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    testCloud = await startTestCloud();
    ({ cloud, dataDir, publisher } = testCloud);
    db = new pg.Client({ connectionString: testCloud.database.url });
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
    await testCloud?.stop();
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
        'POST /api/fleet/enroll',
        'GET /api/openapi.json',
        'GET /api/registry/keys',
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

  describe('model registry', () => {
    async function push(tar: Buffer, query = '') {
      const response = await fetch(`${cloud.httpUrl}/api/models${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.engineer}`, 'content-type': 'application/x-tar' },
        body: tar,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    }

    it('takes a signed package, refuses an unsigned one with its reason, and serves the stored package signed by its own key', async () => {
      const pushed = await push(await pcbAoiPackage(dataDir, { signer: publisher }), '?notes=first%20cut&metrics=%7B%22accuracy%22%3A0.97%7D');
      expect(pushed.status).toBe(201);
      expect(pushed.body).toMatchObject({ modelName: 'pcb-aoi', version: 1, notes: 'first cut', metrics: { accuracy: 0.97 }, author: 'engineer@loupe.test' });

      const refused = await push(await pcbAoiPackage(dataDir, { signer: null }));
      expect(refused).toMatchObject({ status: 422, body: { error: 'unsigned', message: expect.stringContaining('not signed') as unknown } });
      expect((await push(Buffer.from('x'), '?metrics=oops')).status).toBe(400);
      expect((await call('GET', '/api/models', { token: tokens.labeler })).body).toEqual({
        models: [{ modelName: 'pcb-aoi', project: null, task: 'classification', latestVersion: 1, aliases: {} }],
      });

      const promoted = await call('POST', '/api/models/pcb-aoi/aliases/production', { token: tokens.engineer, body: { version: 1, reason: 'passed line trial' } });
      expect(promoted).toEqual({ status: 200, body: { alias: 'production', version: 1, fromVersion: null } });
      expect((await call('POST', '/api/models/pcb-aoi/aliases/gold', { token: tokens.engineer, body: { version: 1, reason: 'why not' } })).status).toBe(400);
      expect(((await call('GET', '/api/models/pcb-aoi/aliases/history', { token: tokens.labeler })).body as { moves: unknown[] }).moves).toEqual([
        expect.objectContaining({ alias: 'production', toVersion: 1, actor: 'engineer@loupe.test', reason: 'passed line trial' }),
      ]);
      expect((await call('GET', '/api/models/pcb-aoi/versions/7', { token: tokens.labeler })).status).toBe(404);

      const keys = (await call('GET', '/api/registry/keys')).body as { keys: { publicKeyPem: string }[] };
      const download = await fetch(`${cloud.httpUrl}/api/models/pcb-aoi/versions/1/package`, { headers: { authorization: `Bearer ${tokens.engineer}` } });
      expect(download.headers.get('x-package-sha256')).toBe((pushed.body as { packageSha256: string }).packageSha256);
      const unpacked = join(await mkdtemp(join(dataDir, 'download-')), 'package');
      await unpackPackage(Readable.from(Buffer.from(await download.arrayBuffer())), unpacked);
      const verified = await verifyPackage(unpacked, new TrustedKeys(keys.keys.map((key) => key.publicKeyPem)));
      expect(verified.model).toMatchObject({ name: 'pcb-aoi', version: '1' });
    }, 60_000);
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
        doneToday: number;
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
      expect((await call('POST', `/api/projects/${projectId}/claims`, { token: tokens.labeler })).body).toEqual({ claim: null, queueDepth: 1, doneToday: first.doneToday + 1 });

      const { rows } = await db.query('SELECT sample_id, answer_key, answer, spent_ms FROM labels WHERE project_id = $1', [projectId]);
      expect(rows).toEqual([{ sample_id: ids[0], answer_key: 'scratch', answer: { className: 'scratch' }, spent_ms: 1_200 }]);
    });

    it('submits and claims the next sample in one request, takes an answer back, and lets a reviewer settle a disagreement', async () => {
      const modelName = `model-${randomUUID()}`;
      const created = await call('POST', '/api/projects', {
        token: tokens.engineer,
        body: { name: `review ${modelName}`, modelName, task: 'classification', classes: ['ok', 'scratch'], consensus: 2 },
      });
      const projectId = (created.body as { id: string }).id;
      const id = randomUUID();
      await db.query(
        `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                              prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
         VALUES ($1::uuid, 'plant', 'aoi-1', 'line-1', '', now(), $2, '1', 'reject', '{}'::jsonb, 0.5, 'margin', 'samples/' || $1::text, repeat('0', 64), 1, 'image/jpeg')`,
        [id, modelName],
      );
      await db.query(`INSERT INTO label_tasks (sample_id, project_id, priority) VALUES ($1, $2, 0.5)`, [id, projectId]);
      type Claimed = { claim: { sampleId: string; token: string } | null; queueDepth: number; doneToday: number };
      const claim = async (role: string) => (await call('POST', `/api/projects/${projectId}/claims`, { token: tokens[role] })).body as Claimed;
      const answer = (role: string, held: { sampleId: string; token: string }, className: string) =>
        call('POST', `/api/claims/${held.sampleId}/submit`, { token: tokens[role], body: { token: held.token, className, spentMs: 800, claimNext: true } });

      const byLabeler = (await claim('labeler')).claim!;
      const answered = await answer('labeler', byLabeler, 'ok');
      expect(answered.status).toBe(200);
      const doneToday = (answered.body as { next: Claimed }).next.doneToday;
      expect(answered.body).toEqual({ state: 'open', next: { claim: null, queueDepth: 1, doneToday } });

      const undone = await call('POST', `/api/claims/${id}/undo`, { token: tokens.labeler });
      expect(undone.status).toBe(200);
      const again = (undone.body as { claim: { sampleId: string; token: string }; doneToday: number });
      expect({ sampleId: again.claim.sampleId, doneToday: again.doneToday }).toEqual({ sampleId: id, doneToday: doneToday - 1 });
      expect((await answer('labeler', again.claim, 'scratch')).status).toBe(200);
      expect((await call('POST', `/api/claims/${randomUUID()}/undo`, { token: tokens.labeler })).status).toBe(404);

      const byReviewer = (await claim('reviewer')).claim!;
      expect(((await answer('reviewer', byReviewer, 'ok')).body as { state: string }).state).toBe('review');
      const retaken = await call('POST', `/api/claims/${id}/undo`, { token: tokens.reviewer });
      expect(retaken.status).toBe(200);
      expect((await answer('reviewer', (retaken.body as { claim: { sampleId: string; token: string } }).claim, 'ok')).status).toBe(200);

      const review = (await call('POST', `/api/projects/${projectId}/reviews`, { token: tokens.reviewer })).body as {
        review: { sampleId: string; token: string; answers: { labeler: string; className: string }[] };
        reviewDepth: number;
      };
      expect(review.reviewDepth).toBe(1);
      expect(review.review.answers.map(({ labeler, className }) => `${labeler}:${className}`)).toEqual(['labeler:scratch', 'reviewer:ok']);
      expect((await call('POST', `/api/reviews/${id}/heartbeat`, { token: tokens.reviewer, body: { token: review.review.token } })).status).toBe(200);
      const decided = await call('POST', `/api/reviews/${id}/decide`, { token: tokens.reviewer, body: { token: review.review.token, className: 'scratch' } });
      expect(decided).toEqual({ status: 200, body: { state: 'done' } });
      const undoLate = await call('POST', `/api/claims/${id}/undo`, { token: tokens.labeler });
      expect(undoLate.status).toBe(409);
      expect((undoLate.body as { message: string }).message).toBe('a reviewer has taken this sample up; your answer stays');

      const exported = await fetch(`${cloud.httpUrl}/api/projects/${projectId}/export`, { headers: { authorization: `Bearer ${tokens.engineer}` } });
      expect(JSON.parse(await exported.text())).toMatchObject({
        sampleId: id,
        label: { className: 'scratch' },
        labelers: ['labeler@loupe.test', 'reviewer@loupe.test'],
        reviewer: 'reviewer@loupe.test',
      });
    });

    /** A project with `settled` samples answered by the labeler and `open` ones still waiting. */
    async function labeledProject(task: 'classification' | 'detection', settled: { answer: unknown }[], open = 0) {
      const modelName = `model-${randomUUID()}`;
      const created = await call('POST', '/api/projects', {
        token: tokens.engineer,
        body: { name: `export ${modelName}`, modelName, task, classes: ['scratch', 'void'] },
      });
      const projectId = (created.body as { id: string }).id;
      const ids = Array.from({ length: settled.length + open }, () => randomUUID());
      await db.query(
        `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                              prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
         SELECT v.id, 'plant', 'aoi-1', 'line-1', '', now(), $2, '7', 'reject', '{"scores":[]}'::jsonb, 0.5, 'margin',
                'samples/' || v.id || '.jpg', repeat('0', 64), 1, 'image/jpeg'
         FROM unnest($1::uuid[]) AS v(id)`,
        [ids, modelName],
      );
      const { rows } = await db.query<{ id: string }>("SELECT id FROM users WHERE email = 'labeler@loupe.test'");
      await db.query(
        `INSERT INTO label_tasks (sample_id, project_id, priority, state, answers)
         SELECT v.id, $2, 0.5, CASE WHEN v.n <= $3 THEN 'done' ELSE 'open' END, CASE WHEN v.n <= $3 THEN 1 ELSE 0 END
         FROM unnest($1::uuid[]) WITH ORDINALITY AS v(id, n)`,
        [ids, projectId, settled.length],
      );
      await db.query(
        `INSERT INTO labels (sample_id, project_id, labeler_id, answer_key, answer, spent_ms)
         SELECT v.id, $2, $3, v.answer::text, v.answer, 1000 FROM unnest($1::uuid[], $4::jsonb[]) AS v(id, answer)`,
        [ids.slice(0, settled.length), projectId, rows[0]!.id, settled.map((each) => JSON.stringify(each.answer))],
      );
      return { projectId, settledIds: ids.slice(0, settled.length) };
    }

    async function download(path: string) {
      const response = await fetch(`${cloud.httpUrl}${path}`, { headers: { authorization: `Bearer ${tokens.engineer}` } });
      return { status: response.status, total: response.headers.get('x-total-count'), text: await response.text() };
    }

    it('exports the settled samples as JSON Lines, with labels, labelers and a split stable across exports', async () => {
      const settled = Array.from({ length: 1_203 }, (_, index) => ({ answer: { className: index % 3 === 0 ? 'void' : 'scratch' } }));
      const { projectId, settledIds } = await labeledProject('classification', settled, 40);
      const first = await download(`/api/projects/${projectId}/export`);
      expect(first.status).toBe(200);
      expect(first.total).toBe('1203');
      const lines = first.text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.map((line) => line.sampleId).sort()).toEqual([...settledIds].sort());
      for (const line of lines) {
        expect(line).toMatchObject({ labelers: ['labeler@loupe.test'], split: splitOf(line.sampleId as string), prediction: { verdict: 'reject', modelVersion: '7' } });
        expect((line.label as { className: string }).className).toMatch(/^(void|scratch)$/);
        expect((line.image as { key: string }).key).toBe(`samples/${String(line.sampleId)}.jpg`);
      }
      expect((await download(`/api/projects/${projectId}/export?format=jsonl`)).text).toBe(first.text);
      expect((await download(`/api/projects/${projectId}/export?format=coco`)).status).toBe(400);
    });

    it('exports a detection project as COCO, boxes as annotations of their images', async () => {
      const boxes = (count: number) => Array.from({ length: count }, (_, index) => ({ className: index % 2 ? 'void' : 'scratch', x: 10 * index, y: 5, width: 20, height: 8 }));
      const { projectId } = await labeledProject('detection', [{ answer: { boxes: boxes(2) } }, { answer: { boxes: [] } }, { answer: { boxes: boxes(3) } }]);
      const coco = JSON.parse((await download(`/api/projects/${projectId}/export?format=coco`)).text) as {
        categories: { id: number; name: string }[];
        images: { id: number; loupe_sample_id: string }[];
        annotations: { image_id: number; category_id: number; bbox: number[]; area: number }[];
      };
      expect(coco.categories).toEqual([{ id: 1, name: 'scratch' }, { id: 2, name: 'void' }]);
      expect(coco.images.map((image) => image.id)).toEqual([1, 2, 3]);
      expect(coco.annotations).toHaveLength(5);
      expect(coco.annotations.every((annotation) => annotation.area === 160 && [1, 2].includes(annotation.category_id))).toBe(true);
      expect(new Set(coco.annotations.map((annotation) => annotation.image_id)).size).toBe(2);
    });

    it('refuses a project that repeats a class or takes a model another project has', async () => {
      const body = { name: `p-${randomUUID()}`, modelName: `m-${randomUUID()}`, task: 'classification', classes: ['ok'] };
      expect((await call('POST', '/api/projects', { token: tokens.admin, body: { ...body, classes: ['ok', 'ok'] } })).status).toBe(400);
      expect((await call('POST', '/api/projects', { token: tokens.admin, body })).status).toBe(201);
      expect((await call('POST', '/api/projects', { token: tokens.admin, body: { ...body, name: 'other' } })).status).toBe(409);
    });
  });
});
