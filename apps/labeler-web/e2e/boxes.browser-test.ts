import { submitRequestSchema } from '@loupe/api-contracts';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserHarness, LABELER, photographAndCheck, shownSample, type SeedSample } from './browser-harness';

const CLASSES = ['solder bridge', 'missing part'];
const prediction = (boxes: { label: string; score: number; x: number; y: number; width: number; height: number }[]) => ({
  scores: boxes.map((box) => ({ label: box.label, score: box.score })),
  boxes,
});
const WITH_MODEL_BOXES: SeedSample = {
  image: 'Defective_02.png',
  verdict: 'reject',
  prediction: prediction([
    { label: 'missing part', score: 0.91, x: 60, y: 80, width: 80, height: 60 },
    { label: 'solder bridge', score: 0.55, x: 300, y: 200, width: 50, height: 40 },
  ]),
};
// The model names a class the project does not have: the labeler must give it one of theirs.
const WITH_FOREIGN_CLASS: SeedSample = {
  image: 'Defective_25.png',
  verdict: 'reject',
  prediction: prediction([{ label: 'scratch', score: 0.4, x: 10, y: 10, width: 30, height: 20 }]),
};

type Box = { className: string; x: number; y: number; width: number; height: number };

describe('boxes in a browser', () => {
  const harness = new BrowserHarness();
  beforeAll(() => harness.start());
  afterAll(() => harness.stop());

  /** Where an image pixel is on screen, from the image element's box and its own size. */
  async function screenPoint(page: Page, x: number, y: number) {
    const image = page.locator('img[data-sample-id]');
    const box = (await image.boundingBox())!;
    const natural = await image.evaluate((element: HTMLImageElement) => element.naturalWidth);
    const scale = box.width / natural;
    return { x: box.x + x * scale, y: box.y + y * scale };
  }

  async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
    const start = await screenPoint(page, from.x, from.y);
    const end = await screenPoint(page, to.x, to.y);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(end.x, end.y, { steps: 8 });
    await page.mouse.up();
  }

  const boxList = async (page: Page) => (await page.getByRole('region', { name: 'Boxes' }).locator('ol').textContent()) ?? '';
  const confirmation = (page: Page) => page.getByRole('status', { name: 'Last action' });

  /** Mouse-made edges land within a pixel of where they were aimed (the pointer's position is rounded on its way to the page). */
  function expectNear(actual: Box, expected: Box) {
    expect(actual.className).toBe(expected.className);
    for (const key of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(actual[key] - expected[key]), `${key} of ${JSON.stringify(actual)}`).toBeLessThanOrEqual(1);
  }

  it("draws, moves, resizes, re-classes and deletes boxes over the model's pre-labels, and stores them as the API's boxes", async () => {
    const { projectId } = await harness.seedProject({ name: 'Board parts', task: 'detection', classes: CLASSES, samples: [WITH_MODEL_BOXES] });
    const page = await harness.signIn(LABELER, 'label');
    await page.getByRole('link', { name: 'Board parts' }).click();
    await shownSample(page);
    // The model's boxes are there to edit, each with its score until touched.
    await expect.poll(() => boxList(page)).toBe('1. missing partmodel 91%Delete2. solder bridgemodel 55%Delete');

    // Key 2 chooses the class for a new box; a drag on the image draws it.
    await page.keyboard.press('2');
    await drag(page, { x: 400, y: 300 }, { x: 480, y: 360 });
    await expect.poll(() => boxList(page)).toContain('3. missing partyours');
    // The drawn box is selected: key 1 gives it the other class.
    await page.keyboard.press('1');
    await expect.poll(() => boxList(page)).toContain('3. solder bridgeyours');

    // N goes round to the first box; arrows move it a pixel, ten with Shift.
    await page.keyboard.press('n');
    for (let step = 0; step < 3; step++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowDown');
    await expect.poll(() => boxList(page)).toContain('1. missing partyours');
    // N again, then Delete: the model's second box is gone, and the next in line is selected.
    await page.keyboard.press('n');
    await page.keyboard.press('Delete');
    await expect.poll(() => boxList(page)).toBe('1. missing partyoursDelete2. solder bridgeyoursDelete');

    // The selected (drawn) box moves when dragged from inside, and resizes from its corner handle.
    await drag(page, { x: 440, y: 330 }, { x: 460, y: 340 });
    await drag(page, { x: 500, y: 370 }, { x: 540, y: 400 });
    // Z takes back that resize: edits on the sample come back one at a time before any answer does.
    await page.getByRole('button', { name: 'Z Undo box edit' }).waitFor();
    await photographAndCheck(page, 'label-boxes', async () => {
      await shownSample(page);
    });
    await page.keyboard.press('z');

    await page.keyboard.press('Enter');
    await expect.poll(() => confirmation(page).textContent()).toBe('Answered 2 boxes. Z takes it back.');
    await expect.poll(() => harness.answersOf(projectId, LABELER.email)).toHaveLength(1);
    const [answer] = (await harness.answersOf(projectId, LABELER.email)) as { boxes: Box[] }[];
    // The stored answer is what the API takes: whole pixels, positive sizes, project classes.
    expect(submitRequestSchema.safeParse({ token: '1', spentMs: 0, boxes: answer!.boxes }).success).toBe(true);
    expect(Object.keys(answer!)).toEqual(['boxes']);
    const [moved, drawn] = answer!.boxes;
    expect(moved).toEqual({ className: 'missing part', x: 63, y: 90, width: 80, height: 60 });
    expectNear(drawn!, { className: 'solder bridge', x: 420, y: 310, width: 80, height: 60 });
    await page.close();
  });

  it('refuses a box whose class the project lacks until it gets one, sends no boxes as an answer too, and takes an answer back with Z', async () => {
    const { projectId } = await harness.seedProject({ name: 'Housings', task: 'detection', classes: CLASSES, samples: [WITH_FOREIGN_CLASS, WITH_MODEL_BOXES] });
    const page = await harness.signIn(LABELER, `label/${projectId}`);
    const first = await shownSample(page);
    await expect.poll(() => boxList(page)).toBe('1. scratchmodel 40%Delete');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Box 1 is "scratch", which is not a class of this project: select it and press a class key (1-2).' }).waitFor();
    expect(await harness.answersOf(projectId, LABELER.email)).toEqual([]);
    await page.keyboard.press('n');
    await page.keyboard.press('2');
    await page.keyboard.press('Enter');
    const second = await shownSample(page, first);
    await expect.poll(() => harness.answersOf(projectId, LABELER.email)).toEqual([{ boxes: [{ className: 'missing part', x: 10, y: 10, width: 30, height: 20 }] }]);

    // Every box deleted, the answer says there is nothing to mark.
    await page.getByRole('button', { name: 'Delete box 1' }).click();
    await page.getByRole('button', { name: 'Delete box 1' }).click();
    await page.getByRole('button', { name: 'Enter Send: nothing to mark' }).click();
    await expect.poll(() => confirmation(page).textContent()).toBe('Answered no boxes. Z takes it back.');
    await expect.poll(() => harness.answersOf(projectId, LABELER.email)).toHaveLength(2);
    expect((await harness.answersOf(projectId, LABELER.email))[1]).toEqual({ boxes: [] });

    // With no edits on screen, Z takes the last answer back: its sample returns with the boxes that were sent (none).
    await page.keyboard.press('z');
    expect(await shownSample(page)).toBe(second);
    await expect.poll(() => harness.answersOf(projectId, LABELER.email)).toHaveLength(1);
    await expect.poll(() => page.getByRole('region', { name: 'Boxes' }).textContent()).toContain('No boxes: drag on the image to draw one');
    await page.close();
  });
});
