import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { generateSigningKey, publicKeyToPem, signedPackage } from '@loupe/model-package';
import { AppProcess } from '@loupe/service';
import { freePort, startTestBroker, startTestDatabase, type TestBroker, type TestDatabase } from '@loupe/testing';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Debian's chromium, driven headless (see docs/testing.md).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const workspace = resolve(import.meta.dirname, '..', '..', '..');
const PCB_AOI = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi');
const IMAGES = join(PCB_AOI, 'sample-images');
const SCREENSHOTS = join(workspace, 'dist', 'screenshots');
const ADMIN = { email: 'admin@browser.test', password: 'browser-admin-password' };
const LABELER = { email: 'ana@browser.test', password: 'ana-labeler-password', name: 'Ana', role: 'labeler' };
const SECOND_LABELER = { email: 'ben@browser.test', password: 'ben-labeler-password', name: 'Ben', role: 'labeler' };
const REVIEWER = { email: 'rita@browser.test', password: 'rita-reviewer-password', name: 'Rita', role: 'reviewer' };
const ENGINEER = { email: 'eve@browser.test', password: 'eve-engineer-password', name: 'Eve', role: 'engineer' };

describe('the labeler UI in a browser', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let dataDir: string;
  let cloud: AppProcess;
  let browser: Browser;
  let httpUrl: string;
  let db: pg.Client;
  let adminToken: string;
  const publisher = generateSigningKey();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`the browser tests drive chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
    if (!existsSync(join(workspace, 'dist', 'apps', 'labeler-web', 'index.html'))) throw new Error('build the labeler UI first: npx nx run labeler-web:build');
    [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-browser-'));
    await writeFile(join(dataDir, 'publishers.pem'), publicKeyToPem(publisher.publicKey));
    const port = await freePort();
    cloud = new AppProcess({
      name: 'cloud',
      cwd: workspace,
      entry: 'apps/cloud/src/main.ts',
      tsconfig: 'apps/cloud/tsconfig.json',
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        DATA_DIR: dataDir,
        HTTP_PORT: String(port),
        GRPC_PORT: '0',
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: String(database.maxConnections),
        MQTT_URL: broker.url,
        MQTT_TOPIC_ROOT: broker.topicRoot,
        LABELER_WEB_DIR: join(workspace, 'dist', 'apps', 'labeler-web'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        REGISTRY_PUBLISHER_KEYS_FILE: join(dataDir, 'publishers.pem'),
      },
    });
    httpUrl = String((await cloud.waitForLog('cloud ready')).httpUrl);
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    adminToken = String((await api('/api/auth/login', ADMIN)).token);
    for (const user of [LABELER, SECOND_LABELER, REVIEWER, ENGINEER]) await api('/api/users', user, adminToken);
  });

  afterAll(async () => {
    await browser?.close();
    await db?.end();
    await cloud?.stop('SIGTERM');
    await Promise.all([database?.stop(), broker?.stop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function api(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** Six demo images as stored samples of a model, then a project that queues them. */
  async function seedProject(name: string, consensus = 1): Promise<string> {
    const modelName = `pcb-aoi-${randomUUID()}`;
    const images = ['Defective_02.png', 'Defective_25.png', 'Normal_33.png', 'Defective_02.png', 'Defective_25.png', 'Normal_33.png'];
    for (const [index, image] of images.entries()) {
      const id = randomUUID();
      const key = `samples/plant/aoi-1/${id}.png`;
      // The cloud's embedded blob store is this folder (docs/configuration.md, DATA_DIR).
      const path = join(dataDir, 'cloud', 'blobs', key);
      await mkdir(dirname(path), { recursive: true });
      await copyFile(join(IMAGES, image), path);
      await db.query(
        `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                              prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
         VALUES ($1, 'plant', 'aoi-1', 'line-3-aoi', '', now(), $2, '1', 'reject',
                 '{"scores":[{"label":"Defective","score":0.58},{"label":"Normal","score":0.42}],"boxes":[]}', $3, 'margin',
                 $4, repeat('0', 64), 1, 'image/png')`,
        [id, modelName, 1 - index / 10, key],
      );
    }
    const project = await api('/api/projects', { name, modelName, task: 'classification', classes: ['Normal', 'Defective'], consensus }, adminToken);
    return String(project.id);
  }

  async function signIn(user: { email: string; password: string }, screen: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${httpUrl}/#/${screen}`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  /** Waits until the sample image on screen has loaded (not just its element) and returns its URL. */
  async function shownSample(page: Page, other?: string): Promise<string> {
    if (other) await page.waitForFunction((previous) => document.querySelector('img.sample')?.getAttribute('src') !== previous, other);
    await page.locator('img.sample').waitFor();
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('img.sample')?.naturalWidth ?? 0) > 0);
    return (await page.locator('img.sample').getAttribute('src')) ?? '';
  }

  /** Pushes the demo model under `modelName` as its next version (the registry numbers and signs it), with an engineer's token. */
  async function pushDemoModel(modelName: string, token: string): Promise<number> {
    const model = await mkdtemp(join(dataDir, 'model-'));
    for (const file of ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images']) await cp(join(PCB_AOI, file), join(model, file), { recursive: true });
    const manifest = JSON.parse(await readFile(join(model, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(model, 'manifest.json'), JSON.stringify({ ...manifest, name: modelName }));
    const pushed = await fetch(`${httpUrl}/api/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' },
      body: new Uint8Array((await signedPackage(model, publisher)).bytes),
    });
    if (pushed.status !== 201) throw new Error(`pushing ${modelName} answered ${pushed.status}: ${await pushed.text()}`);
    return Number(((await pushed.json()) as { version: number }).version);
  }

  /** An enrolled device of `group` that reports running `model` version `version`, as if its agent had said so. */
  async function enrollRunning(siteId: string, deviceId: string, group: string, model: string, version: number): Promise<void> {
    await db.query(`INSERT INTO device_credentials (site_id, device_id, secret_hash, fleet_group) VALUES ($1, $2, 'not-a-real-secret-hash', $3)`, [
      siteId,
      deviceId,
      group,
    ]);
    const reported = {
      generation: 0,
      reportedAt: new Date().toISOString(),
      status: 'ACTIVE',
      active: { name: model, version: String(version), sha256: '' },
      staged: null,
      previous: null,
      error: '',
      provider: 'cpu',
      runningSha256: '',
      rolloutId: '',
      crashes: 0,
    };
    await db.query(`INSERT INTO device_model_states (site_id, device_id, reported) VALUES ($1, $2, $3::jsonb)`, [siteId, deviceId, JSON.stringify(reported)]);
  }

  const answersOf = async (projectId: string, email: string) =>
    (
      await db.query<{ answer: { className: string } }>(
        `SELECT l.answer FROM labels l JOIN users u ON u.id = l.labeler_id WHERE l.project_id = $1 AND u.email = $2 ORDER BY l.id`,
        [projectId, email],
      )
    ).rows.map((row) => row.answer.className);

  it('lets a labeler sign in, answer five samples with the keyboard, and take the last answer back with Z', async () => {
    const projectId = await seedProject('Solder joints');
    const page = await signIn(LABELER, 'label');
    await page.getByRole('button', { name: 'Solder joints' }).click();

    const shown: string[] = [];
    for (let answer = 0; answer < 5; answer++) {
      const src = await shownSample(page, shown.at(-1));
      expect(shown).not.toContain(src);
      shown.push(src);
      if (answer === 4) {
        await mkdir(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: join(SCREENSHOTS, 'labeling-queue.png') });
      }
      await page.keyboard.press(answer % 2 === 0 ? '2' : '1');
    }
    await expect.poll(async () => (await page.locator('.counters').textContent()) ?? '').toContain('Done today: 5');
    expect(await answersOf(projectId, LABELER.email)).toEqual(['Defective', 'Normal', 'Defective', 'Normal', 'Defective']);

    // Z brings the fifth sample back, its answer gone; answering it again replaces the answer.
    const sixth = await shownSample(page, shown[4]);
    await page.keyboard.press('z');
    expect(await shownSample(page, sixth)).toBe(shown[4]);
    await expect.poll(async () => (await page.locator('.counters').textContent()) ?? '').toContain('Done today: 4');
    expect(await answersOf(projectId, LABELER.email)).toEqual(['Defective', 'Normal', 'Defective', 'Normal']);
    await page.keyboard.press('1');
    await expect.poll(() => answersOf(projectId, LABELER.email)).toEqual(['Defective', 'Normal', 'Defective', 'Normal', 'Normal']);
    expect(existsSync(join(SCREENSHOTS, 'labeling-queue.png'))).toBe(true);
    await page.close();
  });

  it('lets a reviewer settle a disagreement with the keyboard, seeing who answered what', async () => {
    const projectId = await seedProject('Connector pins', 2);
    // Two labelers disagree on the first sample.
    for (const [user, className] of [[LABELER, 'Normal'], [SECOND_LABELER, 'Defective']] as const) {
      const token = String((await api('/api/auth/login', user)).token);
      const { claim } = (await api(`/api/projects/${projectId}/claims`, {}, token)) as { claim: { sampleId: string; token: string } };
      await api(`/api/claims/${claim.sampleId}/submit`, { token: claim.token, className, spentMs: 2_000 }, token);
    }
    const page = await signIn(REVIEWER, 'review');
    await page.getByRole('button', { name: 'Connector pins' }).click();
    await shownSample(page);
    await expect.poll(async () => (await page.locator('ul.answers').textContent()) ?? '').toMatch(/Ana: Normal.*Ben: Defective/);
    await page.screenshot({ path: join(SCREENSHOTS, 'review-queue.png') });
    await page.keyboard.press('2');
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '').toContain('Nothing to review');

    const { rows } = await db.query(
      `SELECT r.answer, u.email, t.state FROM reviews r JOIN users u ON u.id = r.reviewer_id JOIN label_tasks t ON t.sample_id = r.sample_id
       WHERE r.project_id = $1`,
      [projectId],
    );
    expect(rows).toEqual([{ answer: { className: 'Defective' }, email: REVIEWER.email, state: 'done' }]);
    await page.close();
  });

  it('lets an engineer create a project from the projects screen, and shows its reason when the cloud refuses one', async () => {
    const page = await signIn(ENGINEER, 'projects');
    const modelName = `housing-${randomUUID()}`;
    await page.getByLabel('Name', { exact: true }).fill('Housing cracks');
    await page.getByLabel(/Model name/).fill(modelName);
    await page.getByLabel(/Classes/).fill('ok\ncrack\nchip');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('status').filter({ hasText: 'Created Housing cracks' }).waitFor();
    await expect.poll(async () => (await page.locator('table').textContent()) ?? '').toContain(modelName);
    await page.screenshot({ path: join(SCREENSHOTS, 'projects.png') });
    const { rows } = await db.query('SELECT name, task, classes, consensus FROM projects WHERE model_name = $1', [modelName]);
    expect(rows).toEqual([{ name: 'Housing cracks', task: 'classification', classes: ['ok', 'crack', 'chip'], consensus: 1 }]);

    await page.getByLabel('Name', { exact: true }).fill('Housing cracks');
    await page.getByLabel(/Model name/).fill(`other-${modelName}`);
    await page.getByLabel(/Classes/).fill('ok');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('alert').filter({ hasText: 'exists already' }).waitFor();
    await page.close();
  });

  it("shows the registry's models, and a model's latest version with its alias history", async () => {
    const model = await mkdtemp(join(dataDir, 'model-'));
    for (const file of ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images']) await cp(join(PCB_AOI, file), join(model, file), { recursive: true });
    const engineer = String((await api('/api/auth/login', ENGINEER)).token);
    const pushed = await fetch(`${httpUrl}/api/models?notes=first%20cut`, {
      method: 'POST',
      headers: { authorization: `Bearer ${engineer}`, 'content-type': 'application/x-tar' },
      body: new Uint8Array((await signedPackage(model, publisher)).bytes),
    });
    expect(pushed.status).toBe(201);
    await api('/api/models/pcb-aoi/aliases/production', { version: 1, reason: 'passed the line trial' }, engineer);

    const page = await signIn(REVIEWER, 'models');
    await page.getByRole('button', { name: 'pcb-aoi' }).click();
    await page.getByRole('heading', { name: 'Alias history' }).waitFor();
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '').toMatch(/golden samples checked on cpu.*first cut/s);
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '').toContain('passed the line trial');
    await page.screenshot({ path: join(SCREENSHOTS, 'models.png') });
    await page.close();
  });

  it("shows a rollout's stages, devices and both cohorts, pauses it with a reason, and shows the fleet's model updates", async () => {
    const engineer = String((await api('/api/auth/login', ENGINEER)).token);
    const modelName = 'pcb-aoi-rollout';
    const from = await pushDemoModel(modelName, engineer);
    const to = await pushDemoModel(modelName, engineer);
    const group = 'line-rollout';
    for (const device of ['aoi-1', 'aoi-2', 'aoi-3']) await enrollRunning('plant-r', device, group, modelName, from);
    const plan = { stages: [{ name: 'canary', devices: ['plant-r/aoi-1'], bakeSeconds: 600 }, { name: 'all', percent: 100 }] };
    const rollout = await api('/api/rollouts', { model: modelName, version: to, fleetGroup: group, plan }, engineer);
    const rolloutId = String(rollout.id);

    const page = await signIn(ENGINEER, `rollouts/${rolloutId}`);
    await page.getByRole('heading', { name: 'Stages' }).waitFor();
    const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';
    expect(await page.locator('ol.stages > li strong').allTextContents()).toEqual(['canary', 'all']);
    expect(await text('ol.stages > li[aria-current="step"]')).toContain('canary');
    // No agent answers in this test: the controller asks the canary to update, and it stays updating.
    await expect.poll(() => text('ol.stages > li[aria-current="step"]')).toContain('1 updating');
    expect(await text('ol.stages > li:nth-child(2)')).toContain('2 pending');
    await expect.poll(() => text('table.rollout-devices')).toMatch(/plant-r\/aoi-1canaryupdating.*plant-r\/aoi-2allpending.*plant-r\/aoi-3allpending/);
    expect(await page.locator('table.cohorts thead th').allTextContents()).toEqual(['Metric', `Candidate v${to}`, `Baseline v${from}`]);
    expect(await page.locator('table.cohorts tbody th').allTextContents()).toContain('Uncertain rate');
    expect(await text('table.gates')).toContain('no data');
    expect(await text('table.audit-log')).toContain('started');

    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByLabel(/Reason for pause/).fill('line 3 is down for maintenance');
    await page.getByRole('button', { name: 'Pause rollout' }).click();
    await page.getByRole('status').filter({ hasText: 'the rollout is paused' }).waitFor();
    await expect.poll(() => text('.rollout-state')).toContain('paused');
    await expect.poll(() => text('table.audit-log')).toContain('line 3 is down for maintenance');
    expect(await page.getByRole('button', { name: 'Pause', exact: true }).isDisabled()).toBe(true);
    const { rows } = await db.query('SELECT state, reason FROM rollouts WHERE id = $1', [rolloutId]);
    expect(rows).toEqual([{ state: 'paused', reason: 'line 3 is down for maintenance' }]);
    await page.screenshot({ path: join(SCREENSHOTS, 'rollout.png'), fullPage: true });

    // Someone else resumes it while this page has the Resume form open: the cloud refuses the second resume and says why.
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByLabel(/Reason for resume/).fill('maintenance done');
    await api(`/api/rollouts/${rolloutId}/resume`, { reason: 'resumed from the CLI' }, engineer);
    await page.getByRole('button', { name: 'Resume rollout' }).click();
    await page.getByRole('alert').filter({ hasText: 'resume needs it paused' }).waitFor();
    await expect.poll(() => text('.rollout-state')).toContain('running');

    await page.getByRole('link', { name: 'All rollouts' }).click();
    await expect.poll(() => text('main table')).toMatch(new RegExp(`${modelName}v${from} → v${to}${group}runningcanary`));
    await page.getByRole('link', { name: modelName }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    expect(page.url()).toBe(`${httpUrl}/#/rollouts/${rolloutId}`);

    await page.getByRole('link', { name: 'Fleet' }).click();
    await expect.poll(() => text('main table')).toMatch(new RegExp(`aoi-1.*never.*${group}.*${modelName}@${to}\\s*rollout.*ACTIVE.*${modelName}@${from}`));
    expect(await page.locator('main table tbody tr').filter({ hasText: 'plant-r' }).count()).toBe(3);
    await page.screenshot({ path: join(SCREENSHOTS, 'fleet.png'), fullPage: true });
    await page.close();
  });
});
