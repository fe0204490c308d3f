import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserHarness, LABELER, photographAndCheck, shownSample, SIZES, type SeedSample } from './browser-harness';

// The example: a pass whose scores all tie at 0 once read as "Defective (0%)".
const TIED_PASS: SeedSample = { image: 'Normal_33.png', verdict: 'pass', prediction: { scores: [{ label: 'Defective', score: 0 }, { label: 'Normal', score: 0 }], boxes: [] } };
const UNSURE_REJECT: SeedSample = {
  image: 'Defective_02.png',
  verdict: 'reject',
  prediction: { scores: [{ label: 'Defective', score: 0.58 }, { label: 'Normal', score: 0.42 }], boxes: [] },
};

describe('labeling in a browser', () => {
  const harness = new BrowserHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.stop());

  const text = async (page: Page, name: string) => (await page.getByRole('region', { name }).textContent()) ?? '';
  const counters = async (page: Page) => (await page.getByLabel('Counters').textContent()) ?? '';
  const confirmation = (page: Page) => page.getByRole('status', { name: 'Last action' });
  const classNames = (answers: unknown[]) => answers.map((answer) => (answer as { className: string }).className);

  it('answers by click and by key, confirms each answer, and takes answers back one by one with Z until there is nothing left', async () => {
    const { projectId, sampleIds } = await harness.seedProject({ name: 'Solder joints', samples: [TIED_PASS, UNSURE_REJECT, UNSURE_REJECT, UNSURE_REJECT] });
    const page = await harness.signIn(LABELER, '');
    // An address without a screen opens the labeler's own: the projects to label.
    await page.waitForURL(/#\/label$/);
    await page.getByRole('link', { name: 'Solder joints' }).click();
    expect(page.url()).toMatch(new RegExp(`#/label/${projectId}$`));

    const first = await shownSample(page);
    expect(sampleIds).toContain(first);
    await expect.poll(() => counters(page)).toMatch(/Your answers here today0.*Waiting in this project4/);
    await page.keyboard.press('z');
    await expect.poll(() => confirmation(page).textContent()).toBe('Nothing to undo: you have not answered a sample on this screen yet.');

    await page.getByRole('button', { name: '2 Defective' }).click();
    await expect.poll(() => confirmation(page).textContent()).toBe('Answered Defective. Z takes it back.');
    const second = await shownSample(page, first);
    await page.keyboard.press('1');
    await expect.poll(() => confirmation(page).textContent()).toBe('Answered Normal. Z takes it back.');
    const third = await shownSample(page, second);
    await expect.poll(() => counters(page)).toMatch(/Your answers here today2/);
    expect(classNames(await harness.answersOf(projectId, LABELER.email))).toEqual(['Defective', 'Normal']);

    // Z takes back the latest answer and shows its sample again; Z again, the one before.
    await page.keyboard.press('z');
    expect(await shownSample(page, third)).toBe(second);
    await expect.poll(() => confirmation(page).textContent()).toBe('Took back your answer (Normal): answer this sample again.');
    await page.keyboard.press('z');
    expect(await shownSample(page, second)).toBe(first);
    await expect.poll(() => harness.answersOf(projectId, LABELER.email)).toEqual([]);
    await expect.poll(() => counters(page)).toMatch(/Your answers here today0/);
    await page.keyboard.press('z');
    await expect.poll(() => confirmation(page).textContent()).toBe('Nothing more to undo: every answer you gave on this screen has been taken back.');

    await page.keyboard.press('1');
    await expect.poll(async () => classNames(await harness.answersOf(projectId, LABELER.email))).toEqual(['Normal']);

    // The address keeps the screen: a reload opens the same project, its counters read from the cloud.
    await page.reload();
    await page.getByRole('heading', { name: 'Solder joints' }).waitFor();
    await shownSample(page);
    await expect.poll(() => counters(page)).toMatch(/Your answers here today1/);
    await page.close();
  });

  it("shows the model's verdict with the score behind it, never a class it did not pick, and every score on P", async () => {
    const { sampleIds } = await harness.seedProject({ name: 'Verdicts', samples: [TIED_PASS, UNSURE_REJECT] });
    const page = await harness.signIn(LABELER, 'label');
    await page.getByRole('link', { name: 'Verdicts' }).click();
    for (let shown = 0; shown < 2; shown++) {
      const sample = await shownSample(page);
      const guess = await text(page, "The model's guess");
      if (sample === sampleIds[0]) {
        expect(guess).toContain('Model v1: pass · no class leads');
        expect(guess).not.toMatch(/Defective\s*\(?0%/);
      } else {
        expect(guess).toContain('Model v1: reject · Defective 58%');
      }
      await page.keyboard.press('p');
      await expect.poll(() => text(page, "The model's guess")).toMatch(sample === sampleIds[0] ? /Defective0%Normal0%/ : /Defective58%Normal42%/);
      await page.keyboard.press('p');
      if (shown === 0) await page.keyboard.press('2');
      if (shown === 0) await shownSample(page, sample);
    }
    await page.close();
  });

  it('zooms with the wheel and keys, pans by dragging and with arrows, fits to screen, and changes brightness and contrast', async () => {
    await harness.seedProject({ name: 'Inspection', samples: [UNSURE_REJECT] });
    const page = await harness.signIn(LABELER, 'label');
    await page.getByRole('link', { name: 'Inspection' }).click();
    await shownSample(page);
    const image = page.locator('img[data-sample-id]');
    const box = async () => (await image.boundingBox())!;
    const zoom = async () => (await page.getByLabel('Zoom', { exact: true }).textContent()) ?? '';
    const fitted = await box();

    // The wheel zooms in around the pointer: the image point under it stays under it.
    const pointer = { x: fitted.x + fitted.width * 0.3, y: fitted.y + fitted.height * 0.6 };
    await page.mouse.move(pointer.x, pointer.y);
    // Three notches of a mouse wheel, a step of 1.25 each.
    for (let notch = 0; notch < 3; notch++) await page.mouse.wheel(0, -100);
    await expect.poll(async () => (await box()).width).toBeCloseTo(fitted.width * 1.25 ** 3, 0);
    const zoomed = await box();
    expect((pointer.x - zoomed.x) / zoomed.width).toBeCloseTo(0.3, 2);
    expect((pointer.y - zoomed.y) / zoomed.height).toBeCloseTo(0.6, 2);

    // Keys zoom by a step of 1.25 around the centre.
    await page.keyboard.press('+');
    await expect.poll(async () => (await box()).width).toBeCloseTo(zoomed.width * 1.25, 0);
    expect(await zoom()).toBe(`${Math.round((zoomed.width * 1.25 * 100) / (await image.evaluate((element: HTMLImageElement) => element.naturalWidth)))}%`);
    await page.keyboard.press('-');
    await expect.poll(async () => (await box()).width).toBeCloseTo(zoomed.width, 0);

    // A drag pans by exactly the distance dragged; an arrow by 64 pixels.
    await page.mouse.move(pointer.x, pointer.y);
    await page.mouse.down();
    await page.mouse.move(pointer.x + 100, pointer.y + 50, { steps: 5 });
    await page.mouse.up();
    const dragged = await box();
    expect(dragged.x - zoomed.x).toBeCloseTo(100, 0);
    expect(dragged.y - zoomed.y).toBeCloseTo(50, 0);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(async () => (await box()).x - dragged.x).toBeCloseTo(64, 0);

    // 0 fits the image to the screen again; Shift+1 shows it one-to-one.
    await page.keyboard.press('0');
    await expect.poll(async () => (await box()).width).toBeCloseTo(fitted.width, 0);
    await page.keyboard.press('Shift+!');
    await expect.poll(zoom).toBe('100%');
    await page.getByRole('button', { name: /^Fit/ }).click();
    await expect.poll(async () => (await box()).width).toBeCloseTo(fitted.width, 0);

    // B and C raise brightness and contrast, Shift lowers them, the slider takes arrows, R resets.
    const filter = () => image.evaluate((element) => element.style.filter);
    await page.keyboard.press('b');
    await page.keyboard.press('b');
    await page.keyboard.press('Shift+C');
    await expect.poll(filter).toBe('brightness(120%) contrast(90%)');
    const brightness = page.getByRole('slider', { name: 'Brightness' });
    expect(await brightness.getAttribute('aria-valuenow')).toBe('120');
    await brightness.focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(filter).toBe('brightness(125%) contrast(90%)');
    await brightness.blur();
    await page.keyboard.press('r');
    await expect.poll(filter).toBe('none');
    await page.close();
  });

  it('keeps image and answers on one screen at 1280x720 and 1920x1080, the image taking the extra width', async () => {
    const { projectId } = await harness.seedProject({ name: 'Layout', classes: ['ok', 'scratch', 'dent', 'stain', 'chip', 'crack', 'burr', 'void', 'missing'], samples: [UNSURE_REJECT] });
    const page = await harness.signIn(LABELER, `label/${projectId}`);
    await shownSample(page);
    const widths: number[] = [];
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      // Nothing scrolls: every answer, skip, undo and the whole image are in the window.
      expect(await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight && document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      for (const name of ['9 missing', 'S Skip', 'Z Undo last answer']) {
        const button = (await page.getByRole('button', { name }).boundingBox())!;
        expect(button.y + button.height).toBeLessThanOrEqual(size.height);
        expect(button.x + button.width).toBeLessThanOrEqual(size.width);
      }
      const image = (await page.locator('img[data-sample-id]').boundingBox())!;
      expect(image.y + image.height).toBeLessThanOrEqual(size.height + 0.5);
      widths.push(image.width);
    }
    expect(widths[1]).toBeGreaterThan(widths[0]! * 1.3);
    await photographAndCheck(page, 'label-classes', async () => {
      await shownSample(page);
    });
    await page.close();
  });

  it("counts the labeler's answers per project and says why a queue that is empty for them still has samples waiting", async () => {
    // Consensus 2: once this labeler answered, the sample waits for a second labeler, not for them.
    const { projectId } = await harness.seedProject({ name: 'Second opinions', consensus: 2, samples: [UNSURE_REJECT] });
    const page = await harness.signIn(LABELER, `label/${projectId}`);
    await shownSample(page);
    // Answers given in the other projects of this file do not count here.
    await expect.poll(() => counters(page)).toMatch(/Your answers here today0.*Waiting in this project1/);
    await page.keyboard.press('2');
    await page.getByText(/^Nothing left for you here\. 1 sample waits for other labelers/).waitFor();
    await expect.poll(() => counters(page)).toMatch(/Your answers here today1.*Waiting in this project1/);
    await photographAndCheck(page, 'label-empty-for-you');
    await page.close();
  });
});
