import { useCallback, useRef, useState } from 'react';
import { actualSizeView, fitView, panBy, zoomAt, type Point, type Size, type Viewport } from './viewport';

export interface ViewportControl {
  /** Null until both the image and the stage have a size. */
  view: Viewport | null;
  image: Size | null;
  /** For the stage element: it is measured as it resizes. */
  stageRef: (element: HTMLDivElement | null) => void;
  /** Called with the image's own size once it has loaded. */
  setImage: (image: Size) => void;
  /** Zooms around `anchor` (a stage point), or around the stage's centre. */
  zoomBy: (factor: number, anchor?: Point) => void;
  panBy: (dx: number, dy: number) => void;
  fit: () => void;
  actualSize: () => void;
}

interface State {
  /** The image loaded last, with its address: a view of another image is not this one's. */
  loaded: { src: string; image: Size } | null;
  stage: Size;
  view: Viewport | null;
  /** True until the person zooms or pans: a fitted image is fitted again when the stage changes size. */
  fitted: boolean;
}

/**
 * The zoom and pan of the image at `src` on a stage element. The stage is
 * measured as it resizes (a window resized, a panel opened), and every new
 * image starts fitted to it; the arithmetic is in viewport.ts.
 */
export function useViewport(src: string): ViewportControl {
  const [state, setState] = useState<State>({ loaded: null, stage: { width: 0, height: 0 }, view: null, fitted: true });
  const observer = useRef<ResizeObserver | null>(null);

  const stageRef = useCallback((element: HTMLDivElement | null) => {
    observer.current?.disconnect();
    observer.current = null;
    if (!element) return;
    observer.current = new ResizeObserver(([entry]) => {
      if (!entry) return;
      const stage = { width: entry.contentRect.width, height: entry.contentRect.height };
      setState((shown) => ({ ...shown, stage, view: shown.loaded && shown.fitted ? fitView(shown.loaded.image, stage) : shown.view }));
    });
    observer.current.observe(element);
  }, []);

  const setImage = useCallback(
    (image: Size) => setState((shown) => ({ ...shown, loaded: { src, image }, view: fitView(image, shown.stage), fitted: true })),
    [src],
  );

  /** Applies a change to the view the person sees; moved by them, it is no longer fitted. */
  const move = useCallback((change: (view: Viewport, image: Size, stage: Size) => Viewport) => {
    setState((shown) => (shown.view && shown.loaded ? { ...shown, view: change(shown.view, shown.loaded.image, shown.stage), fitted: false } : shown));
  }, []);

  const zoomBy = useCallback(
    (factor: number, anchor?: Point) => move((view, image, stage) => zoomAt(view, factor, anchor ?? { x: stage.width / 2, y: stage.height / 2 }, image, stage)),
    [move],
  );
  const pan = useCallback((dx: number, dy: number) => move((view, image, stage) => panBy(view, dx, dy, image, stage)), [move]);
  const fit = useCallback(() => setState((shown) => (shown.loaded ? { ...shown, view: fitView(shown.loaded.image, shown.stage), fitted: true } : shown)), []);
  const actualSize = useCallback(() => move(actualSizeView), [move]);

  const image = state.loaded?.src === src ? state.loaded.image : null;
  return { view: image ? state.view : null, image, stageRef, setImage, zoomBy, panBy: pan, fit, actualSize };
}
