import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AppProcess } from '@loupe/service';
import { freePort, startTestBroker, startTestDatabase, type TestBroker, type TestDatabase } from '@loupe/testing';
import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Debian's chromium, driven headless (see docs/testing.md).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const workspace = resolve(import.meta.dirname, '..', '..', '..');
const IMAGES = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi', 'sample-images');
const SCREENSHOT = join(workspace, 'dist', 'screenshots', 'labeling-queue.png');
const ADMIN = { email: 'admin@browser.test', password: 'browser-admin-password' };
const LABELER = { email: 'ana@browser.test', password: 'ana-labeler-password' };

describe('the labeling screen in a browser', () => {
  let database: TestDatabase;
  let broker: TestBroker;
  let dataDir: string;
  let cloud: AppProcess;
  let browser: Browser;
  let httpUrl: string;
  let db: pg.Client;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`the browser tests drive chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
    if (!existsSync(join(workspace, 'dist', 'apps', 'labeler-web', 'index.html'))) throw new Error('build the labeler UI first: npx nx run labeler-web:build');
    [database, broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-browser-'));
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
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: String(database.maxConnections),
        MQTT_URL: broker.url,
        MQTT_TOPIC_ROOT: broker.topicRoot,
        LABELER_WEB_DIR: join(workspace, 'dist', 'apps', 'labeler-web'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      },
    });
    httpUrl = String((await cloud.waitForLog('cloud ready')).httpUrl);
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
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
  async function seedProject(): Promise<string> {
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
    const admin = String((await api('/api/auth/login', ADMIN)).token);
    await api('/api/users', { ...LABELER, name: 'Ana', role: 'labeler' }, admin);
    const project = await api('/api/projects', { name: 'Solder joints', modelName, task: 'classification', classes: ['Normal', 'Defective'] }, admin);
    return String(project.id);
  }

  it('lets a labeler sign in and answer five samples with the keyboard', async () => {
    const projectId = await seedProject();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${httpUrl}/#/label`);
    await page.getByLabel('Email').fill(LABELER.email);
    await page.getByLabel('Password').fill(LABELER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Solder joints' }).click();

    const shown: string[] = [];
    for (let answer = 0; answer < 5; answer++) {
      const image = page.locator('img.sample');
      await image.waitFor();
      // The image has loaded, not just its element.
      await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('img.sample')?.naturalWidth ?? 0) > 0);
      const src = (await image.getAttribute('src')) ?? '';
      expect(shown).not.toContain(src);
      shown.push(src);
      if (answer === 4) {
        await mkdir(dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
      }
      await page.keyboard.press(answer % 2 === 0 ? '2' : '1');
      await page.waitForFunction((previous) => document.querySelector('img.sample')?.getAttribute('src') !== previous, src);
    }
    await expect.poll(async () => (await page.locator('.counters').textContent()) ?? '').toContain('Done today: 5');

    const { rows } = await db.query<{ answer: { className: string } }>(
      `SELECT l.answer FROM labels l JOIN users u ON u.id = l.labeler_id WHERE l.project_id = $1 AND u.email = $2 ORDER BY l.id`,
      [projectId, LABELER.email],
    );
    expect(rows.map((row) => row.answer.className)).toEqual(['Defective', 'Normal', 'Defective', 'Normal', 'Defective']);
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});
