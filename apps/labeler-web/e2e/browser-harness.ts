import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { generateSigningKey, publicKeyToPem, signedPackage } from '@loupe/model-package';
import { AppProcess } from '@loupe/testing';
import { freePort, startTestBroker, startTestDatabase, type TestBroker, type TestDatabase } from '@loupe/testing';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

// Debian's chromium, driven headless (see docs/testing.md).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const workspace = resolve(import.meta.dirname, '..', '..', '..');
export const PCB_AOI = join(workspace, 'tools', 'demo', 'models', 'pcb-aoi');
const IMAGES = join(PCB_AOI, 'sample-images');
const DEFAULT_BACKBONE = join(workspace, 'tools', 'backbones', 'squeezenet-features');
export const SCREENSHOTS = join(workspace, 'dist', 'screenshots');

/** The two window sizes every screen is checked and photographed at: a small laptop and a common desktop. */
export const SIZES = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
] as const;

export interface User {
  email: string;
  password: string;
  name: string;
  role: 'labeler' | 'reviewer' | 'engineer' | 'admin';
}

export const ADMIN: User = { email: 'admin@browser.test', password: 'browser-admin-password', name: 'Admin', role: 'admin' };
export const LABELER: User = { email: 'ana@browser.test', password: 'ana-labeler-password', name: 'Ana', role: 'labeler' };
export const SECOND_LABELER: User = { email: 'ben@browser.test', password: 'ben-labeler-password', name: 'Ben', role: 'labeler' };
export const REVIEWER: User = { email: 'rita@browser.test', password: 'rita-reviewer-password', name: 'Rita', role: 'reviewer' };
export const ENGINEER: User = { email: 'eve@browser.test', password: 'eve-engineer-password', name: 'Eve', role: 'engineer' };

/** A sample to store: one of the demo images with the prediction the model would have sent. */
export interface SeedSample {
  image: 'Defective_02.png' | 'Defective_25.png' | 'Normal_33.png' | 'Normal_35.png';
  verdict: string;
  prediction: unknown;
}

export interface ProjectSeed {
  name: string;
  task?: 'classification' | 'detection';
  classes?: string[];
  consensus?: number;
  samples: SeedSample[];
}

/**
 * A cloud process on the test's database and broker, serving the built
 * labeler UI, with a labeler, a second labeler, a reviewer and an engineer,
 * and a headless chromium to drive it.
 */
export class BrowserHarness {
  readonly publisher = generateSigningKey();
  httpUrl = '';
  dataDir = '';
  db!: pg.Client;
  browser!: Browser;
  private database?: TestDatabase;
  private broker?: TestBroker;
  private cloud?: AppProcess;
  private adminToken = '';

  async start(): Promise<void> {
    if (!existsSync(CHROMIUM)) throw new Error(`the browser tests drive chromium at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
    if (!existsSync(join(workspace, 'dist', 'apps', 'labeler-web', 'index.html'))) throw new Error('build the labeler UI first: npx nx run labeler-web:build');
    [this.database, this.broker] = await Promise.all([startTestDatabase(), startTestBroker()]);
    this.dataDir = await mkdtemp(join(tmpdir(), 'loupe-browser-'));
    await writeFile(join(this.dataDir, 'publishers.pem'), publicKeyToPem(this.publisher.publicKey));
    const port = await freePort();
    this.cloud = new AppProcess({
      name: 'cloud',
      cwd: workspace,
      entry: 'apps/cloud/src/main.ts',
      tsconfig: 'apps/cloud/tsconfig.json',
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        DATA_DIR: this.dataDir,
        HTTP_PORT: String(port),
        GRPC_PORT: '0',
        DATABASE_URL: this.database.url,
        DATABASE_POOL_SIZE: String(this.database.maxConnections),
        MQTT_URL: this.broker.url,
        MQTT_TOPIC_ROOT: this.broker.topicRoot,
        LABELER_WEB_DIR: join(workspace, 'dist', 'apps', 'labeler-web'),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        REGISTRY_PUBLISHER_KEYS_FILE: join(this.dataDir, 'publishers.pem'),
      },
    });
    this.httpUrl = String((await this.cloud.waitForLog('cloud ready')).httpUrl);
    this.db = new pg.Client({ connectionString: this.database.url });
    await this.db.connect();
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    this.adminToken = String((await this.api('/api/auth/login', ADMIN)).token);
    for (const user of [LABELER, SECOND_LABELER, REVIEWER, ENGINEER]) await this.api('/api/users', user, this.adminToken);
    await mkdir(SCREENSHOTS, { recursive: true });
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.db?.end();
    await this.cloud?.stop('SIGTERM');
    await Promise.all([this.database?.stop(), this.broker?.stop()]);
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  async api(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  }

  async getJson(path: string, token: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** Claims and answers every sample of a project as `user`, each with the class `classOf` names for it, until the queue is empty. */
  async labelAll(projectId: string, user: User, classOf: (sampleId: string) => string): Promise<number> {
    const token = await this.tokenOf(user);
    for (let answered = 0; ; answered++) {
      const { claim } = (await this.api(`/api/projects/${projectId}/claims`, {}, token)) as { claim: { sampleId: string; token: string } | null };
      if (!claim) return answered;
      await this.api(`/api/claims/${claim.sampleId}/submit`, { token: claim.token, className: classOf(claim.sampleId), spentMs: 1_500 }, token);
    }
  }

  async tokenOf(user: User): Promise<string> {
    return String((await this.api('/api/auth/login', user)).token);
  }

  /** The samples stored as a model's, in order of priority (the first is claimed first), then a project that queues them. */
  async seedProject({ name, task = 'classification', classes = ['Normal', 'Defective'], consensus = 1, samples }: ProjectSeed) {
    const modelName = `pcb-aoi-${randomUUID()}`;
    const sampleIds: string[] = [];
    for (const [index, sample] of samples.entries()) {
      const id = randomUUID();
      const key = `samples/plant/aoi-1/${id}.png`;
      // The cloud's embedded blob store is this folder (docs/configuration.md, DATA_DIR).
      const path = join(this.dataDir, 'cloud', 'blobs', key);
      await mkdir(dirname(path), { recursive: true });
      await copyFile(join(IMAGES, sample.image), path);
      await this.db.query(
        `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                              prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
         VALUES ($1, 'plant', 'aoi-1', 'line-3-aoi', '', now(), $2, '1', $3, $4, $5, 'margin', $6, repeat('0', 64), 1, 'image/png')`,
        [id, modelName, sample.verdict, JSON.stringify(sample.prediction), 1 - index / (samples.length + 1), key],
      );
      sampleIds.push(id);
    }
    const project = await this.api('/api/projects', { name, modelName, task, classes, consensus }, this.adminToken);
    return { projectId: String(project.id), modelName, sampleIds };
  }

  /** A page signed in as `user`, opened at `#/<screen>`. */
  async signIn(user: User, screen: string, size: { width: number; height: number } = SIZES[0]): Promise<Page> {
    // A page of its own context: axe (photographAndCheck) opens helper pages beside it.
    const page = await (await this.browser.newContext({ viewport: { ...size } })).newPage();
    await page.goto(`${this.httpUrl}/#/${screen}`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  /** Pushes the demo model under `modelName` as its next version (the registry numbers and signs it), with an engineer's token. */
  pushDemoModel(modelName: string, token: string, notes?: string): Promise<number> {
    return this.pushModel(PCB_AOI, ['manifest.json', 'pcb-aoi.opset11.onnx', 'sample-images'], modelName, token, notes);
  }

  /** Pushes the shipped default backbone, as `npm start` does, so a training run finds it in the registry. */
  pushDefaultBackbone(token: string): Promise<number> {
    return this.pushModel(DEFAULT_BACKBONE, ['manifest.json', 'squeezenet-features.onnx'], 'squeezenet-features', token);
  }

  private async pushModel(directory: string, files: readonly string[], modelName: string, token: string, notes?: string): Promise<number> {
    const model = await mkdtemp(join(this.dataDir, 'model-'));
    for (const file of files) await cp(join(directory, file), join(model, file), { recursive: true });
    const manifest = JSON.parse(await readFile(join(model, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(model, 'manifest.json'), JSON.stringify({ ...manifest, name: modelName }));
    const query = notes ? `?notes=${encodeURIComponent(notes)}` : '';
    const pushed = await fetch(`${this.httpUrl}/api/models${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' },
      body: new Uint8Array((await signedPackage(model, this.publisher)).bytes),
    });
    if (pushed.status !== 201) throw new Error(`pushing ${modelName} answered ${pushed.status}: ${await pushed.text()}`);
    return Number(((await pushed.json()) as { version: number }).version);
  }

  /** An enrolled device of `group` that reports running `model` version `version`, as if its agent had said so. */
  async enrollRunning(siteId: string, deviceId: string, group: string, model: string, version: number): Promise<void> {
    await this.db.query(`INSERT INTO device_credentials (site_id, device_id, secret_hash, fleet_group) VALUES ($1, $2, 'not-a-real-secret-hash', $3)`, [
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
    await this.db.query(`INSERT INTO device_model_states (site_id, device_id, reported) VALUES ($1, $2, $3::jsonb)`, [siteId, deviceId, JSON.stringify(reported)]);
  }

  /** The answers a labeler gave in a project, oldest first, as the labels table holds them. */
  async answersOf(projectId: string, email: string): Promise<unknown[]> {
    const { rows } = await this.db.query<{ answer: unknown }>(
      `SELECT l.answer FROM labels l JOIN users u ON u.id = l.labeler_id WHERE l.project_id = $1 AND u.email = $2 ORDER BY l.id`,
      [projectId, email],
    );
    return rows.map((row) => row.answer);
  }
}

/**
 * Photographs the page at both sizes as `<name>-<width>x<height>.png`
 * under dist/screenshots/, and checks each with axe: no serious or
 * critical violation of WCAG 2.x A and AA. `ready` waits, at each size,
 * for what must be on screen first.
 */
export async function photographAndCheck(page: Page, name: string, ready: () => Promise<unknown> = () => Promise.resolve()): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await ready();
    // Two frames: the resize is laid out and the image refitted to it.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size.width}x${size.height}.png`) });
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']).analyze();
    const serious = results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.map((node) => node.target.join(' ')) }));
    expect(serious, `axe on ${name} at ${size.width}x${size.height}`).toEqual([]);
  }
}

/** Waits until the sample image on screen has loaded (not just its element) and returns its sample id; `other` waits for a change first. */
export async function shownSample(page: Page, other?: string): Promise<string> {
  if (other) await page.waitForFunction((previous) => document.querySelector('img[data-sample-id]')?.getAttribute('data-sample-id') !== previous, other);
  await page.locator('img[data-sample-id]').waitFor();
  await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('img[data-sample-id]')?.naturalWidth ?? 0) > 0);
  return (await page.locator('img[data-sample-id]').getAttribute('data-sample-id')) ?? '';
}
