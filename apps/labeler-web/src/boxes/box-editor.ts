import type { Size } from '../viewer/viewport';
import { fittedRect, type AnswerBox, type Rect } from './box-geometry';

/** A box on the labeling screen: an answer box, with an id for the screen and, while untouched, the model's score. */
export interface EditableBox extends AnswerBox {
  id: number;
  /** Set on the model's own boxes until the labeler changes them. */
  modelScore?: number;
}

/** One of the model's boxes, as its prediction gives it. */
export interface ModelBox extends Rect {
  label: string;
  score: number;
}

export interface BoxEditorState {
  image: Size;
  boxes: readonly EditableBox[];
  selectedId: number | null;
  /** The class new boxes get; keys 1-9 choose it. */
  drawClass: string;
  /** Earlier box lists, the latest last: what Z goes back to. */
  past: readonly (readonly EditableBox[])[];
  nextId: number;
}

export type BoxEdit =
  | { type: 'add'; rect: Rect }
  | { type: 'place'; id: number; rect: Rect }
  | { type: 'chooseClass'; className: string }
  | { type: 'delete' }
  | { type: 'select'; id: number | null }
  | { type: 'selectNext'; step: 1 | -1 }
  | { type: 'undo' };

/** How many edits Z can take back on one sample. */
const HISTORY = 200;

/** The editor for a new sample: the model's boxes as pre-labels; new boxes get the project's first class. */
export function startEditing(image: Size, modelBoxes: readonly ModelBox[], classes: readonly string[]): BoxEditorState {
  return editorWith(image, modelBoxes.map((box) => ({ ...box, className: box.label, modelScore: box.score })), classes);
}

/** The editor for a sample answered before (an answer taken back): the labeler's own boxes again. */
export function resumeEditing(image: Size, answered: readonly AnswerBox[], classes: readonly string[]): BoxEditorState {
  return editorWith(image, answered, classes);
}

function editorWith(image: Size, given: readonly (AnswerBox & { modelScore?: number })[], classes: readonly string[]): BoxEditorState {
  const boxes = given.flatMap((box, index) => {
    const rect = fittedRect(box, image);
    if (!rect) return [];
    return [{ ...rect, className: box.className, id: index + 1, ...(box.modelScore === undefined ? {} : { modelScore: box.modelScore }) }];
  });
  return { image, boxes, selectedId: null, drawClass: classes[0] ?? '', past: [], nextId: given.length + 1 };
}

/** Applies one edit. Edits that change the boxes can be taken back with `undo`; selecting cannot. */
export function editBoxes(state: BoxEditorState, edit: BoxEdit): BoxEditorState {
  switch (edit.type) {
    case 'add': {
      const rect = fittedRect(edit.rect, state.image);
      if (!rect) return state;
      const box: EditableBox = { ...rect, className: state.drawClass, id: state.nextId };
      return { ...changed(state, [...state.boxes, box]), selectedId: box.id, nextId: state.nextId + 1 };
    }
    case 'place': {
      const rect = fittedRect(edit.rect, state.image);
      return rect ? replaceBox(state, edit.id, (box) => ({ ...rect, className: box.className, id: box.id })) : state;
    }
    case 'chooseClass': {
      const chosen = { ...state, drawClass: edit.className };
      return state.selectedId === null ? chosen : replaceBox(chosen, state.selectedId, (box) => ({ ...rectOf(box), className: edit.className, id: box.id }));
    }
    case 'delete': {
      if (state.selectedId === null) return state;
      const index = state.boxes.findIndex((box) => box.id === state.selectedId);
      if (index < 0) return state;
      const boxes = state.boxes.filter((box) => box.id !== state.selectedId);
      // The next box in line is selected, so Delete can clear several in a row.
      return { ...changed(state, boxes), selectedId: boxes[Math.min(index, boxes.length - 1)]?.id ?? null };
    }
    case 'select':
      return { ...state, selectedId: edit.id !== null && state.boxes.some((box) => box.id === edit.id) ? edit.id : null };
    case 'selectNext':
      return { ...state, selectedId: nextId(state, edit.step) };
    case 'undo': {
      const previous = state.past.at(-1);
      if (!previous) return state;
      const selectedId = previous.some((box) => box.id === state.selectedId) ? state.selectedId : null;
      return { ...state, boxes: previous, past: state.past.slice(0, -1), selectedId };
    }
  }
}

/** The boxes as the cloud takes them, in the order they were made. */
export const answerBoxes = (state: BoxEditorState): AnswerBox[] => state.boxes.map((box) => ({ className: box.className, ...rectOf(box) }));

/** Why these boxes cannot be sent as an answer (a class the project does not have), or null when they can. */
export function boxesProblem(state: BoxEditorState, classes: readonly string[]): string | null {
  const index = state.boxes.findIndex((box) => !classes.includes(box.className));
  if (index < 0) return null;
  const box = state.boxes[index]!;
  return `Box ${index + 1} is "${box.className}", which is not a class of this project: select it and press a class key (1-${classes.length}).`;
}

const rectOf = ({ x, y, width, height }: Rect): Rect => ({ x, y, width, height });

function changed(state: BoxEditorState, boxes: readonly EditableBox[]): BoxEditorState {
  return { ...state, boxes, past: [...state.past, state.boxes].slice(-HISTORY) };
}

/** The box edited by `edit`; an edited box is the labeler's, so it loses the model's score. */
function replaceBox(state: BoxEditorState, id: number, edit: (box: EditableBox) => EditableBox): BoxEditorState {
  const box = state.boxes.find((candidate) => candidate.id === id);
  if (!box) return state;
  const edited = edit(box);
  if (sameBox(edited, box)) return state;
  return changed(state, state.boxes.map((candidate) => (candidate.id === id ? edited : candidate)));
}

const sameBox = (a: AnswerBox, b: AnswerBox) => a.className === b.className && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;

/** The box after (or before) the selected one, round the list; the first (or last) when none is selected. */
function nextId(state: BoxEditorState, step: 1 | -1): number | null {
  const count = state.boxes.length;
  if (count === 0) return null;
  const index = state.boxes.findIndex((box) => box.id === state.selectedId);
  const from = index < 0 ? (step === 1 ? -1 : count) : index;
  return state.boxes[(from + step + count) % count]!.id;
}
