import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserHarness, ENGINEER, LABELER, photographAndCheck, type SeedSample } from './browser-harness';

// The Training screen on a real cloud: the run trains in the cloud's own
// worker on labels given through the labeling API, with the shipped backbone.

const sample = (image: SeedSample['image']): SeedSample => ({
  image,
  verdict: image.startsWith('Defective') ? 'reject' : 'pass',
  prediction: { scores: [{ label: 'Defective', score: 0.5 }, { label: 'Normal', score: 0.5 }], boxes: [] },
});

// 60 samples of the four demo images, so every split of the frozen dataset very likely holds both classes.
const IMAGES: SeedSample['image'][] = ['Defective_02.png', 'Normal_33.png', 'Defective_25.png', 'Normal_35.png'];
const SAMPLES = Array.from({ length: 60 }, (_, index) => sample(IMAGES[index % IMAGES.length]!));

// Training takes seconds here; the worker's claim, feature extraction and packaging, a while longer on a busy 2-core machine.
const RUN_TIMEOUT_MS = 90_000;

describe('the Training screen in a browser', () => {
  const harness = new BrowserHarness();
  beforeAll(async () => {
    await harness.start();
    await harness.pushDefaultBackbone(await harness.tokenOf(ENGINEER));
  });
  afterAll(() => harness.stop());

  let projectId = '';
  let runId = '';
  const runsTable = (page: Page) => page.getByRole('table', { name: 'Training runs' });

  it('trains on the labels at the press of Train, shows progress, the numbers, the matrix and the curve, and takes a rejection with its reason', async () => {
    const seeded = await harness.seedProject({ name: 'Solder joints training', samples: SAMPLES });
    projectId = seeded.projectId;
    const classOf = (sampleId: string) => (SAMPLES[seeded.sampleIds.indexOf(sampleId)]!.image.startsWith('Defective') ? 'Defective' : 'Normal');
    expect(await harness.labelAll(projectId, LABELER, classOf)).toBe(SAMPLES.length);

    const page = await harness.signIn(ENGINEER, `training/${projectId}`);
    await page.getByRole('heading', { name: /Training: Solder joints training/ }).waitFor();
    await page.getByText('No runs yet: press Train').waitFor();
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Run queued' }).waitFor();
    await expect.poll(() => runsTable(page).textContent(), { timeout: RUN_TIMEOUT_MS, interval: 1_000 }).toMatch(/Run 1.*succeeded/);

    const engineer = await harness.tokenOf(ENGINEER);
    const { runs } = (await harness.getJson(`/api/projects/${projectId}/training-runs`, engineer)) as { runs: { id: string; dataset: { labels: number; test: number }; decision: string }[] };
    runId = runs[0]!.id;
    const { labels, test } = runs[0]!.dataset;
    expect(labels).toBe(SAMPLES.length);
    expect(await runsTable(page).textContent()).toContain(String(labels));
    const champion = page.getByRole('table', { name: 'Champion against challenger' });
    expect(await champion.locator('tbody th').allTextContents()).toEqual(['Accuracy', 'Macro-F1', 'Calibration error (lower is better)']);
    expect(await champion.locator('thead th').first().textContent()).toBe(`Metric on ${test} test samples`);
    expect(await page.getByRole('table', { name: 'Precision and recall of each class' }).locator('tbody th').allTextContents()).toEqual(expect.arrayContaining(['Normal', 'Defective']));
    expect(await page.getByRole('img', { name: /confusion matrix, \d+ test samples, rows actual, columns predicted/ }).count()).toBeGreaterThanOrEqual(1);
    expect(await page.getByRole('img', { name: new RegExp(`^Learning curve: ${labels} labels, accuracy \\d`) }).count()).toBe(1);
    await photographAndCheck(page, 'training', () => page.getByRole('img', { name: /^Learning curve/ }).waitFor());

    // No model served the project before, so its first candidate waits for an engineer whatever the margin.
    expect(['first-model', 'awaiting-approval']).toContain(runs[0]!.decision);
    await page.getByRole('button', { name: 'Reject', exact: true }).click();
    await page.getByLabel(/Reason to reject/).fill('too few boards to trust it');
    await page.getByRole('button', { name: 'Reject candidate' }).click();
    await page.getByRole('status').filter({ hasText: 'rejected by an engineer' }).waitFor();
    await page.getByText(/^Candidate \S+ v\d+: rejected by an engineer\.$/).waitFor();
    expect(await page.getByRole('button', { name: 'Approve and start rollout' }).count()).toBe(0);
    expect(await harness.getJson(`/api/training-runs/${runId}`, engineer)).toMatchObject({ decision: 'rejected' });
    await page.close();
  });

  it('keeps the promotion policy an engineer saves, and names a field it cannot take before asking the cloud', async () => {
    const page = await harness.signIn(ENGINEER, `training/${projectId}`);
    const policy = page.getByRole('form', { name: 'Promotion policy' });
    await policy.getByLabel(/Margin/).fill('2');
    await policy.getByLabel('Start a canary rollout at once').check();
    await policy.getByLabel(/Train after every N new labels/).fill('50');
    await policy.getByLabel(/Fleet group/).fill('line-3');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await policy.getByRole('status').filter({ hasText: 'Policy saved.' }).waitFor();
    const engineer = await harness.tokenOf(ENGINEER);
    expect(await harness.getJson(`/api/projects/${projectId}/training-policy`, engineer)).toMatchObject({
      margin: 0.02,
      promotion: 'auto-rollout',
      everyNewLabels: 50,
      everyHours: null,
      fleetGroup: 'line-3',
    });

    await page.reload();
    await expect.poll(() => page.getByRole('form', { name: 'Promotion policy' }).getByLabel(/Margin/).inputValue()).toBe('2');
    await page.getByRole('form', { name: 'Promotion policy' }).getByLabel(/Margin/).fill('150');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').filter({ hasText: /^Margin:/ }).waitFor();
    await page.close();
  });

  it("shows a labeler the runs and what their labels bought, without an engineer's actions", async () => {
    const page = await harness.signIn(LABELER, 'training');
    await page.getByRole('link', { name: 'Solder joints training' }).click();
    await expect.poll(() => runsTable(page).textContent()).toMatch(/Run 1.*succeeded/);
    await page.getByRole('img', { name: /^Learning curve/ }).waitFor();
    for (const name of ['Train', 'Reject', 'Approve and start rollout', 'Save policy', 'Cancel run']) expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await page.getByRole('heading', { name: 'Promotion policy' }).count()).toBe(0);
    await photographAndCheck(page, 'training-labeler');
    await page.close();
  });

  it("shows in words why a run could not train when a project has no labels", async () => {
    const { projectId: empty } = await harness.seedProject({ name: 'Nothing labeled', samples: [sample('Normal_33.png')] });
    const page = await harness.signIn(ENGINEER, `training/${empty}`);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    // The cloud refuses the run, or queues it and the run fails: either way the page says why.
    const alert = page.getByRole('alert');
    await alert.first().waitFor({ timeout: RUN_TIMEOUT_MS });
    expect(((await alert.first().textContent()) ?? '').length).toBeGreaterThan(20);
    await page.close();
  });
});
