import { useLayoutEffect, useRef, type PointerEvent, type RefObject } from 'react';
import type { ViewportControl } from './use-viewport';
import { toImagePoint, type Point } from './viewport';

/** A drag that is not a pan (drawing or moving a box), fed image points until the pointer is let go. */
export interface ImageDrag {
  move: (at: Point) => void;
  end: (at: Point) => void;
  cancel: () => void;
}

type Gesture = { kind: 'pan'; last: Point } | { kind: 'drag'; drag: ImageDrag };

interface StagePointerOptions {
  viewport: ViewportControl;
  /** Whether a plain drag pans (classification); otherwise it goes to `onDragStart`. */
  dragPans: boolean;
  /** Space held down: a plain drag pans while it is (read at each press). */
  spaceHeld: RefObject<boolean>;
  /** Starts a drag at an image point on `target`; null lets nothing happen. */
  onDragStart?: ((at: Point, target: Element) => ImageDrag | null) | undefined;
}

/**
 * The stage's pointer handlers: a middle-button drag, or a plain one where
 * plain drags pan or with Space held, moves the view; any other plain drag
 * goes to `onDragStart` in image points, the pointer captured until it is
 * let go.
 */
export function useStagePointer({ viewport, dragPans, spaceHeld, onDragStart }: StagePointerOptions) {
  const gesture = useRef<Gesture | null>(null);
  // Handlers read the view of the last render, not the one they were made with.
  const latestView = useRef(viewport.view);
  useLayoutEffect(() => {
    latestView.current = viewport.view;
  });
  const imagePoint = (event: PointerEvent): Point | null => (latestView.current ? toImagePoint(latestView.current, stagePoint(event)) : null);

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    const pans = event.button === 1 || (event.button === 0 && (dragPans || spaceHeld.current));
    const at = imagePoint(event);
    if (pans) gesture.current = { kind: 'pan', last: stagePoint(event) };
    else if (event.button === 0 && at && onDragStart) {
      const drag = onDragStart(at, event.target as Element);
      gesture.current = drag ? { kind: 'drag', drag } : null;
    }
    if (!gesture.current) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const current = gesture.current;
    if (current?.kind === 'pan') {
      const point = stagePoint(event);
      viewport.panBy(point.x - current.last.x, point.y - current.last.y);
      current.last = point;
    } else if (current?.kind === 'drag') {
      const at = imagePoint(event);
      if (at) current.drag.move(at);
    }
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    const current = gesture.current;
    gesture.current = null;
    const at = imagePoint(event);
    if (current?.kind === 'drag') {
      if (at) current.drag.end(at);
      else current.drag.cancel();
    }
  };
  const onPointerCancel = () => {
    const current = gesture.current;
    gesture.current = null;
    if (current?.kind === 'drag') current.drag.cancel();
  };
  return { onPointerDown, onPointerMove, onPointerUp, onPointerCancel };
}

function stagePoint(event: PointerEvent): Point {
  const bounds = event.currentTarget.getBoundingClientRect();
  return { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
}
