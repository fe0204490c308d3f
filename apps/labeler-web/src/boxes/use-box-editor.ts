import { useEffect, useState } from 'react';
import type { ImageDrag } from '../viewer/use-stage-pointer';
import type { Point, Size } from '../viewer/viewport';
import { editBoxes, resumeEditing, startEditing, type BoxEdit, type BoxEditorState, type ModelBox } from './box-editor';
import { drawnRect, HANDLES, movedRect, resizedRect, type AnswerBox, type Handle, type Rect } from './box-geometry';

/** The box being drawn (id null) or dragged, where it would go if let go now. */
export interface BoxPreview {
  id: number | null;
  rect: Rect;
}

interface SampleBoxes {
  /** The sample (and lease) the boxes belong to. */
  key: string;
  image: Size;
  modelBoxes: readonly ModelBox[];
  classes: readonly string[];
  /** The labeler's own boxes, when an undo brought the sample back. */
  previous: readonly AnswerBox[] | null;
}

/**
 * The boxes of the sample on screen: the editor (box-editor.ts) started
 * from the model's boxes once the image's size is known, and the drags on
 * the image that draw, move and resize them.
 */
export function useBoxEditor(sample: SampleBoxes | null) {
  const [editor, setEditor] = useState<{ key: string; state: BoxEditorState } | null>(null);
  const [preview, setPreview] = useState<BoxPreview | null>(null);
  const key = sample?.key ?? null;

  // A new sample starts from its own boxes; the class chosen for new boxes stays.
  useEffect(() => {
    if (!sample) return;
    setPreview(null);
    setEditor((shown) => {
      const started = sample.previous ? resumeEditing(sample.image, sample.previous, sample.classes) : startEditing(sample.image, sample.modelBoxes, sample.classes);
      const drawClass = shown && sample.classes.includes(shown.state.drawClass) ? shown.state.drawClass : started.drawClass;
      return { key: sample.key, state: { ...started, drawClass } };
    });
    // Started once per sample and image: the other fields come with the sample and do not change on their own.
  }, [key, sample?.image]);

  const state = editor && editor.key === key ? editor.state : null;
  const edit = (change: BoxEdit) => setEditor((shown) => (shown && shown.key === key ? { key: shown.key, state: editBoxes(shown.state, change) } : shown));

  /** Follows a drag: `shape` says where the box would be with the pointer at a point; let go, `done` keeps it. */
  const track = (id: number | null, shape: (to: Point) => Rect | null, done: (rect: Rect | null) => void): ImageDrag => ({
    move: (to) => {
      const rect = shape(to);
      setPreview(rect ? { id, rect } : null);
    },
    end: (to) => {
      setPreview(null);
      done(shape(to));
    },
    cancel: () => setPreview(null),
  });

  /** A drag on a handle resizes the selected box, on a box moves it, and anywhere else draws a new one. */
  const onDragStart = (at: Point, target: Element): ImageDrag | null => {
    if (!state) return null;
    const { image } = state;
    const handle = target.closest('[data-handle]')?.getAttribute('data-handle');
    const selected = state.boxes.find((box) => box.id === state.selectedId);
    if (selected && isHandle(handle)) {
      return track(selected.id, (to) => resizedRect(selected, handle, to, image), (rect) => rect && edit({ type: 'place', id: selected.id, rect }));
    }
    const boxId = Number(target.closest('[data-box-id]')?.getAttribute('data-box-id'));
    const box = state.boxes.find((candidate) => candidate.id === boxId);
    if (box) {
      edit({ type: 'select', id: box.id });
      return track(box.id, (to) => movedRect(box, to.x - at.x, to.y - at.y, image), (rect) => rect && edit({ type: 'place', id: box.id, rect }));
    }
    // A click that draws nothing lets the selected box go.
    return track(null, (to) => drawnRect(at, to, image), (rect) => edit(rect ? { type: 'add', rect } : { type: 'select', id: null }));
  };

  return { state, edit, preview, onDragStart };
}

const isHandle = (value: string | null | undefined): value is Handle => HANDLES.some((handle) => handle === value);
