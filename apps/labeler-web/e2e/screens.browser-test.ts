import { randomUUID } from 'node:crypto';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, BrowserHarness, ENGINEER, LABELER, photographAndCheck, REVIEWER, SECOND_LABELER, shownSample, SIZES, type SeedSample } from './browser-harness';

const UNSURE: SeedSample = { image: 'Defective_25.png', verdict: 'reject', prediction: { scores: [{ label: 'Defective', score: 0.58 }, { label: 'Normal', score: 0.42 }], boxes: [] } };

describe('every screen in a browser, by role', () => {
  const harness = new BrowserHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.stop());

  const headerLinks = async (page: Page) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents();
  const text = async (page: Page, selector: string) => (await page.locator(selector).first().textContent()) ?? '';

  it('links each role to the screens the cloud serves it, and tells anyone who opens another by address whose it is', async () => {
    await harness.seedProject({ name: 'Solder joints', samples: [UNSURE] });
    await harness.seedProject({ name: 'Board parts', task: 'detection', classes: ['solder bridge', 'missing part'], samples: [UNSURE] });
    const expected = [
      [LABELER, ['Label', 'Projects', 'Models', 'Training'], /#\/label$/],
      [REVIEWER, ['Label', 'Review', 'Projects', 'Models', 'Training'], /#\/review$/],
      [ENGINEER, ['Projects', 'Models', 'Training', 'Fleet', 'Rollouts'], /#\/projects$/],
      [ADMIN, ['Projects', 'Models', 'Training', 'Fleet', 'Rollouts'], /#\/projects$/],
    ] as const;
    for (const [user, links, home] of expected) {
      const page = await harness.signIn(user, '');
      await page.waitForURL(home);
      expect(await headerLinks(page), user.role).toEqual(links);
      await page.close();
    }

    // A labeler who types the review address gets a sentence, not a 403 behind a spinner.
    const page = await harness.signIn(LABELER, 'review');
    await page.getByRole('alert').filter({ hasText: 'The Review screen is for reviewers; you are signed in as a labeler. Go to Label' }).waitFor();
    expect(await page.getByText(/Claiming/).count()).toBe(0);
    await photographAndCheck(page, 'not-for-your-role');
    await page.getByRole('link', { name: 'Go to Label' }).click();
    await page.waitForURL(/#\/label$/);
    await photographAndCheck(page, 'label-projects', () => page.getByRole('link', { name: 'Board parts' }).waitFor());

    // A keyboard user sees where they are: what Tab reaches wears a 3-pixel ring.
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const focused = document.activeElement as HTMLElement;
      const style = getComputedStyle(focused);
      return { tag: focused.tagName, outline: `${style.outlineStyle} ${style.outlineWidth}` };
    });
    expect(ring).toEqual({ tag: 'A', outline: 'solid 3px' });

    // The check can fail: the header's old browser-blue links on dark grey (about 1.6:1) are a serious violation.
    await page.locator('nav a').first().evaluate((link: HTMLElement) => (link.style.color = '#0000ee'));
    const { violations } = await new AxeBuilder({ page }).withRules(['color-contrast']).analyze();
    expect(violations.map((violation) => [violation.id, violation.impact])).toEqual([['color-contrast', 'serious']]);
    await page.close();
  });

  it('shows a sign-in form that says what went wrong', async () => {
    const page = await (await harness.browser.newContext({ viewport: { ...SIZES[0] } })).newPage();
    await page.goto(`${harness.httpUrl}/`);
    await page.getByLabel('Email').fill(LABELER.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.svg');
    expect((await fetch(`${harness.httpUrl}/favicon.svg`)).headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    await photographAndCheck(page, 'sign-in');
    await page.close();
  });

  it('lets a reviewer settle a disagreement by key, seeing who answered what', async () => {
    const { projectId } = await harness.seedProject({ name: 'Connector pins', consensus: 2, samples: [UNSURE] });
    // Two labelers disagree on the sample.
    for (const [user, className] of [[LABELER, 'Normal'], [SECOND_LABELER, 'Defective']] as const) {
      const token = await harness.tokenOf(user);
      const { claim } = (await harness.api(`/api/projects/${projectId}/claims`, {}, token)) as { claim: { sampleId: string; token: string } };
      await harness.api(`/api/claims/${claim.sampleId}/submit`, { token: claim.token, className, spentMs: 2_000 }, token);
    }
    const page = await harness.signIn(REVIEWER, 'review');
    await page.getByRole('link', { name: 'Connector pins' }).click();
    expect(page.url()).toMatch(new RegExp(`#/review/${projectId}$`));
    await shownSample(page);
    await expect.poll(async () => (await page.locator('ul.answers').textContent()) ?? '').toMatch(/Ana: Normal.*Ben: Defective/);
    await photographAndCheck(page, 'review', async () => {
      await shownSample(page);
    });
    await page.keyboard.press('2');
    await page.getByText('Nothing to review: the labelers agree on every sample so far.').waitFor();

    const { rows } = await harness.db.query(
      `SELECT r.answer, u.email, t.state FROM reviews r JOIN users u ON u.id = r.reviewer_id JOIN label_tasks t ON t.sample_id = r.sample_id
       WHERE r.project_id = $1`,
      [projectId],
    );
    expect(rows).toEqual([{ answer: { className: 'Defective' }, email: REVIEWER.email, state: 'done' }]);
    await page.close();
  });

  it('lets an engineer create a project from the projects screen, and shows its reason when the cloud refuses one', async () => {
    const page = await harness.signIn(ENGINEER, 'projects');
    const modelName = `housing-${randomUUID()}`;
    await page.getByLabel('Name', { exact: true }).fill('Housing cracks');
    await page.getByLabel(/Model name/).fill(modelName);
    await page.getByLabel(/Classes/).fill('ok\ncrack\nchip');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('status').filter({ hasText: 'Created Housing cracks' }).waitFor();
    await expect.poll(async () => (await page.locator('table').textContent()) ?? '').toContain(modelName);
    const { rows } = await harness.db.query('SELECT name, task, classes, consensus FROM projects WHERE model_name = $1', [modelName]);
    expect(rows).toEqual([{ name: 'Housing cracks', task: 'classification', classes: ['ok', 'crack', 'chip'], consensus: 1 }]);

    await page.getByLabel('Name', { exact: true }).fill('Housing cracks');
    await page.getByLabel(/Model name/).fill(`other-${modelName}`);
    await page.getByLabel(/Classes/).fill('ok');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('alert').filter({ hasText: 'exists already' }).waitFor();
    await photographAndCheck(page, 'projects');
    await page.close();
  });

  it("shows the registry's models, and a model's latest version with its alias history", async () => {
    const engineer = await harness.tokenOf(ENGINEER);
    await harness.pushDemoModel('pcb-aoi', engineer, 'first cut');
    await harness.api('/api/models/pcb-aoi/aliases/production', { version: 1, reason: 'passed the line trial' }, engineer);

    const page = await harness.signIn(REVIEWER, 'models');
    await page.getByRole('button', { name: 'pcb-aoi' }).waitFor();
    await photographAndCheck(page, 'models');
    await page.getByRole('button', { name: 'pcb-aoi' }).click();
    await page.getByRole('heading', { name: 'Alias history' }).waitFor();
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '').toMatch(/golden samples checked on cpu.*first cut/s);
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '').toContain('passed the line trial');
    await photographAndCheck(page, 'model');
    await page.close();
  });

  it("shows a rollout's stages, devices and both cohorts, pauses it with a reason, and shows the fleet's model updates", async () => {
    const engineer = await harness.tokenOf(ENGINEER);
    const modelName = 'pcb-aoi-rollout';
    const from = await harness.pushDemoModel(modelName, engineer);
    const to = await harness.pushDemoModel(modelName, engineer);
    const group = 'line-rollout';
    for (const device of ['aoi-1', 'aoi-2', 'aoi-3']) await harness.enrollRunning('plant-r', device, group, modelName, from);
    const plan = { stages: [{ name: 'canary', devices: ['plant-r/aoi-1'], bakeSeconds: 600 }, { name: 'all', percent: 100 }] };
    const rolloutId = String((await harness.api('/api/rollouts', { model: modelName, version: to, fleetGroup: group, plan }, engineer)).id);

    const page = await harness.signIn(ENGINEER, `rollouts/${rolloutId}`);
    await page.getByRole('heading', { name: 'Stages' }).waitFor();
    expect(await page.locator('ol.stages > li strong').allTextContents()).toEqual(['canary', 'all']);
    expect(await text(page, 'ol.stages > li[aria-current="step"]')).toContain('canary');
    // No agent answers in this test: the controller asks the canary to update, and it stays updating.
    await expect.poll(() => text(page, 'ol.stages > li[aria-current="step"]')).toContain('1 updating');
    expect(await text(page, 'ol.stages > li:nth-child(2)')).toContain('2 pending');
    await expect.poll(() => text(page, 'table.rollout-devices')).toMatch(/plant-r\/aoi-1canaryupdating.*plant-r\/aoi-2allpending.*plant-r\/aoi-3allpending/);
    expect(await page.locator('table.cohorts thead th').allTextContents()).toEqual(['Metric', `Candidate v${to}`, `Baseline v${from}`]);
    expect(await page.locator('table.cohorts tbody th').allTextContents()).toContain('Uncertain rate');
    expect(await text(page, 'table.gates')).toContain('no data');
    expect(await text(page, 'table.audit-log')).toContain('started');

    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByLabel(/Reason for pause/).fill('line 3 is down for maintenance');
    await page.getByRole('button', { name: 'Pause rollout' }).click();
    await page.getByRole('status').filter({ hasText: 'the rollout is paused' }).waitFor();
    await expect.poll(() => text(page, '.rollout-state')).toContain('paused');
    await expect.poll(() => text(page, 'table.audit-log')).toContain('line 3 is down for maintenance');
    expect(await page.getByRole('button', { name: 'Pause', exact: true }).isDisabled()).toBe(true);
    const { rows } = await harness.db.query('SELECT state, reason FROM rollouts WHERE id = $1', [rolloutId]);
    expect(rows).toEqual([{ state: 'paused', reason: 'line 3 is down for maintenance' }]);
    await photographAndCheck(page, 'rollout');

    // Someone else resumes it while this page has the Resume form open: the cloud refuses the second resume and says why.
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByLabel(/Reason for resume/).fill('maintenance done');
    await harness.api(`/api/rollouts/${rolloutId}/resume`, { reason: 'resumed from the CLI' }, engineer);
    await page.getByRole('button', { name: 'Resume rollout' }).click();
    await page.getByRole('alert').filter({ hasText: 'resume needs it paused' }).waitFor();
    await expect.poll(() => text(page, '.rollout-state')).toContain('running');

    await page.getByRole('link', { name: 'All rollouts' }).click();
    await expect.poll(() => text(page, 'main table')).toMatch(new RegExp(`${modelName}v${from} → v${to}${group}runningcanary`));
    await photographAndCheck(page, 'rollouts');
    await page.getByRole('link', { name: modelName }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    expect(page.url()).toBe(`${harness.httpUrl}/#/rollouts/${rolloutId}`);

    await page.getByRole('link', { name: 'Fleet' }).click();
    await expect.poll(() => text(page, 'main table')).toMatch(new RegExp(`aoi-1.*never.*${group}.*${modelName}@${to}\\s*rollout.*ACTIVE.*${modelName}@${from}`));
    expect(await page.locator('main table tbody tr').filter({ hasText: 'plant-r' }).count()).toBe(3);
    await photographAndCheck(page, 'fleet');
    await page.close();
  });
});
