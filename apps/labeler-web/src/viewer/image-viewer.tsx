import { useEffect, useLayoutEffect, useRef, useState, type PointerEvent, type ReactNode } from 'react';
import { adjustmentFilter, type Adjustments } from './adjustments';
import styles from './image-viewer.module.css';
import type { ViewportControl } from './use-viewport';
import { toImagePoint, wheelZoomFactor, type Point, type Viewport } from './viewport';

/** A drag that is not a pan (drawing or moving a box), fed image points until the pointer is let go. */
export interface ImageDrag {
  move: (at: Point) => void;
  end: (at: Point) => void;
  cancel: () => void;
}

interface ImageViewerProps {
  src: string;
  alt: string;
  /** Names the sample on the image element, for tests and for people reading the page's source. */
  sampleId: string;
  viewport: ViewportControl;
  adjustments: Adjustments;
  /** Whether a plain drag pans (classification); otherwise Space+drag and middle-drag pan and plain drags go to `onDragStart`. */
  dragPans: boolean;
  /** Starts a drag at an image point on `target`; null lets nothing happen. */
  onDragStart?: (at: Point, target: Element) => ImageDrag | null;
  /**
   * Layers over the image in its own pixels: the layer they are drawn in is
   * scaled and moved with the image, so an SVG or canvas of the image's
   * size lines up at every zoom (boxes today; a heat map later, issue #19).
   */
  children?: (view: Viewport) => ReactNode;
}

type Gesture = { kind: 'pan'; last: Point } | { kind: 'drag'; drag: ImageDrag };

/** Past this zoom the image's pixels are drawn as squares, as an inspector wants to see them, not smoothed. */
const PIXELATED_FROM_SCALE = 4;

/** The sample image on a dark stage, zoomed with the wheel and panned by dragging, with layers drawn over it. */
export function ImageViewer({ src, alt, sampleId, viewport, adjustments, dragPans, onDragStart, children }: ImageViewerProps) {
  const stage = useRef<HTMLDivElement | null>(null);
  const gesture = useRef<Gesture | null>(null);
  const spaceHeld = useSpaceHeld(!dragPans);
  const { view, image } = viewport;
  // The address whose image would not load: said on the stage instead of an empty one.
  const [broken, setBroken] = useState<string | null>(null);
  // Pointer and wheel handlers read the view of the last render, not the one they were made with.
  const latest = useRef({ view, zoomBy: viewport.zoomBy });
  useLayoutEffect(() => {
    latest.current = { view, zoomBy: viewport.zoomBy };
  });

  // React's wheel listener is passive; this one must not be, or the page would scroll or the browser zoom.
  useEffect(() => {
    const element = stage.current;
    if (!element) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const bounds = element.getBoundingClientRect();
      latest.current.zoomBy(wheelZoomFactor(event.deltaY, event.deltaMode), { x: event.clientX - bounds.left, y: event.clientY - bounds.top });
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, []);

  const stagePoint = (event: PointerEvent): Point => {
    const bounds = event.currentTarget.getBoundingClientRect();
    return { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
  };
  const imagePoint = (event: PointerEvent): Point | null => (latest.current.view ? toImagePoint(latest.current.view, stagePoint(event)) : null);

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

  const setStage = (element: HTMLDivElement | null) => {
    stage.current = element;
    viewport.stageRef(element);
  };
  const cursor = dragPans || spaceHeld.current ? styles.grab : styles.crosshair;
  return (
    <div ref={setStage} className={`${styles.stage} ${cursor}`} onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerCancel={onPointerCancel}>
      <div
        className={styles.layer}
        style={
          view && image
            ? { width: image.width, height: image.height, transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` }
            : { visibility: 'hidden' }
        }
      >
        <img
          src={src}
          alt={alt}
          data-sample-id={sampleId}
          draggable={false}
          className={styles.image}
          style={{ filter: adjustmentFilter(adjustments), imageRendering: view && view.scale >= PIXELATED_FROM_SCALE ? 'pixelated' : 'auto' }}
          onLoad={(event) => viewport.setImage({ width: event.currentTarget.naturalWidth, height: event.currentTarget.naturalHeight })}
          onError={() => setBroken(src)}
        />
        {view && image && children?.(view)}
      </div>
      {broken === src && (
        <p className={styles.broken} role="alert">
          The image of this sample did not load. Skip it (S), or reload the page to try again.
        </p>
      )}
    </div>
  );
}

/** Whether Space is held down (outside text fields), while `active`: Space+drag pans where a plain drag draws. */
function useSpaceHeld(active: boolean) {
  const held = useRef(false);
  const [, rerender] = useState(0);
  useEffect(() => {
    if (!active) return;
    const set = (down: boolean) => (event: KeyboardEvent) => {
      if (event.key !== ' ' || isTextField(event.target)) return;
      // Kept from the page: Space would otherwise press the focused button or scroll.
      event.preventDefault();
      if (held.current === down) return;
      held.current = down;
      rerender((count) => count + 1);
    };
    const down = set(true);
    const up = set(false);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  }, [active]);
  return held;
}

const isTextField = (target: EventTarget | null) => target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
