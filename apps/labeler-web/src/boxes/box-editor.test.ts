import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerBoxes, boxesProblem, editBoxes, resumeEditing, startEditing, type BoxEdit, type BoxEditorState } from './box-editor';

const IMAGE = { width: 640, height: 480 };
const CLASSES = ['solder bridge', 'missing part'];
const MODEL_BOXES = [
  { label: 'missing part', score: 0.91, x: 10, y: 20, width: 30, height: 40 },
  { label: 'solder bridge', score: 0.55, x: 600.4, y: 400, width: 100, height: 100 },
];

const apply = (state: BoxEditorState, ...edits: BoxEdit[]) => edits.reduce(editBoxes, state);

describe('the box editor', () => {
  it("starts from the model's boxes as pre-labels, trimmed to the image, drawing with the first class", () => {
    const state = startEditing(IMAGE, MODEL_BOXES, CLASSES);
    expect(answerBoxes(state)).toEqual([
      { className: 'missing part', x: 10, y: 20, width: 30, height: 40 },
      { className: 'solder bridge', x: 600, y: 400, width: 40, height: 80 },
    ]);
    expect(state.boxes.map((box) => box.modelScore)).toEqual([0.91, 0.55]);
    expect(state.drawClass).toBe('solder bridge');
    expect(state.selectedId).toBeNull();
  });

  it('adds a drawn box with the chosen class and selects it; a class key then changes the selected box', () => {
    const state = apply(
      startEditing(IMAGE, [], CLASSES),
      { type: 'chooseClass', className: 'missing part' },
      { type: 'add', rect: { x: 5, y: 5, width: 10, height: 10 } },
    );
    expect(answerBoxes(state)).toEqual([{ className: 'missing part', x: 5, y: 5, width: 10, height: 10 }]);
    expect(state.selectedId).toBe(state.boxes[0]!.id);
    const changed = editBoxes(state, { type: 'chooseClass', className: 'solder bridge' });
    expect(answerBoxes(changed)[0]!.className).toBe('solder bridge');
  });

  it("makes a moved or re-classed model box the labeler's own", () => {
    const state = startEditing(IMAGE, MODEL_BOXES, CLASSES);
    const first = state.boxes[0]!.id;
    const moved = apply(state, { type: 'place', id: first, rect: { x: 12, y: 20, width: 30, height: 40 } });
    expect(moved.boxes[0]).toEqual({ id: first, className: 'missing part', x: 12, y: 20, width: 30, height: 40 });
    expect(apply(state, { type: 'place', id: first, rect: { x: 10, y: 20, width: 30, height: 40 } })).toBe(state);
  });

  it('steps through the boxes with next and previous, round the list', () => {
    const state = startEditing(IMAGE, MODEL_BOXES, CLASSES);
    const [a, b] = state.boxes.map((box) => box.id);
    expect(apply(state, { type: 'selectNext', step: 1 }).selectedId).toBe(a);
    expect(apply(state, { type: 'selectNext', step: 1 }, { type: 'selectNext', step: 1 }).selectedId).toBe(b);
    expect(apply(state, { type: 'selectNext', step: 1 }, { type: 'selectNext', step: 1 }, { type: 'selectNext', step: 1 }).selectedId).toBe(a);
    expect(apply(state, { type: 'selectNext', step: -1 }).selectedId).toBe(b);
    expect(apply(startEditing(IMAGE, [], CLASSES), { type: 'selectNext', step: 1 }).selectedId).toBeNull();
  });

  it('deletes the selected box and selects the next in line; nothing without a selection', () => {
    const state = startEditing(IMAGE, MODEL_BOXES, CLASSES);
    expect(apply(state, { type: 'delete' })).toBe(state);
    const deleted = apply(state, { type: 'selectNext', step: 1 }, { type: 'delete' });
    expect(answerBoxes(deleted).map((box) => box.className)).toEqual(['solder bridge']);
    expect(deleted.selectedId).toBe(state.boxes[1]!.id);
    expect(apply(deleted, { type: 'delete' }).boxes).toEqual([]);
    expect(apply(deleted, { type: 'delete' }).selectedId).toBeNull();
  });

  it('takes edits back one at a time with undo, and does nothing when there is nothing left', () => {
    const state = startEditing(IMAGE, MODEL_BOXES, CLASSES);
    const edited = apply(
      state,
      { type: 'add', rect: { x: 1, y: 1, width: 5, height: 5 } },
      { type: 'chooseClass', className: 'missing part' },
      { type: 'delete' },
    );
    expect(edited.boxes).toHaveLength(2);
    expect(answerBoxes(apply(edited, { type: 'undo' })).at(-1)).toEqual({ className: 'missing part', x: 1, y: 1, width: 5, height: 5 });
    expect(answerBoxes(apply(edited, { type: 'undo' }, { type: 'undo' })).at(-1)!.className).toBe('solder bridge');
    const back = apply(edited, { type: 'undo' }, { type: 'undo' }, { type: 'undo' });
    expect(back.boxes).toEqual(state.boxes);
    expect(apply(back, { type: 'undo' })).toBe(back);
  });

  it('refuses to send a box whose class the project does not have, saying which and how to fix it', () => {
    const state = startEditing(IMAGE, [{ label: 'scratch', score: 0.7, x: 1, y: 1, width: 9, height: 9 }], CLASSES);
    expect(boxesProblem(state, CLASSES)).toBe('Box 1 is "scratch", which is not a class of this project: select it and press a class key (1-2).');
    const fixed = apply(state, { type: 'selectNext', step: 1 }, { type: 'chooseClass', className: 'missing part' });
    expect(boxesProblem(fixed, CLASSES)).toBeNull();
  });

  it('resumes an answer taken back with the boxes that were sent', () => {
    const sent = [{ className: 'missing part', x: 3, y: 4, width: 5, height: 6 }];
    expect(answerBoxes(resumeEditing(IMAGE, sent, CLASSES))).toEqual(sent);
  });

  it('keeps every box answerable, with a unique id, through any sequence of edits', () => {
    const rect = fc.record({
      x: fc.double({ min: -1_000, max: 1_000, noNaN: true }),
      y: fc.double({ min: -1_000, max: 1_000, noNaN: true }),
      width: fc.double({ min: -100, max: 2_000, noNaN: true }),
      height: fc.double({ min: -100, max: 2_000, noNaN: true }),
    });
    const edit: fc.Arbitrary<BoxEdit> = fc.oneof(
      rect.map((r) => ({ type: 'add' as const, rect: r })),
      fc.tuple(fc.integer({ min: 0, max: 12 }), rect).map(([id, r]) => ({ type: 'place' as const, id, rect: r })),
      fc.constantFrom(...CLASSES, 'scratch').map((className) => ({ type: 'chooseClass' as const, className })),
      fc.constant({ type: 'delete' as const }),
      fc.option(fc.integer({ min: 0, max: 12 })).map((id) => ({ type: 'select' as const, id })),
      fc.constantFrom(1 as const, -1 as const).map((step) => ({ type: 'selectNext' as const, step })),
      fc.constant({ type: 'undo' as const }),
    );
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 40 }), (edits) => {
        const state = apply(startEditing(IMAGE, MODEL_BOXES, CLASSES), ...edits);
        for (const box of answerBoxes(state)) {
          expect(box.width).toBeGreaterThanOrEqual(1);
          expect(box.height).toBeGreaterThanOrEqual(1);
          expect(box.x).toBeGreaterThanOrEqual(0);
          expect(box.y).toBeGreaterThanOrEqual(0);
          expect(box.x + box.width).toBeLessThanOrEqual(IMAGE.width);
          expect(box.y + box.height).toBeLessThanOrEqual(IMAGE.height);
        }
        expect(new Set(state.boxes.map((box) => box.id)).size).toBe(state.boxes.length);
        if (state.selectedId !== null) expect(state.boxes.some((box) => box.id === state.selectedId)).toBe(true);
      }),
    );
  });
});
