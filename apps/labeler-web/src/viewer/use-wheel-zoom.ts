import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react';
import type { ViewportControl } from './use-viewport';
import { wheelZoomFactor } from './viewport';

/** Zooms with the wheel over `stage`, around the point under the pointer. */
export function useWheelZoom(stage: RefObject<HTMLDivElement | null>, zoomBy: ViewportControl['zoomBy']): void {
  // The listener outlives renders: it calls the zoom of the last one.
  const latest = useRef(zoomBy);
  useLayoutEffect(() => {
    latest.current = zoomBy;
  });

  // React's wheel listener is passive; this one must not be, or the page would scroll or the browser zoom.
  useEffect(() => {
    const element = stage.current;
    if (!element) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const bounds = element.getBoundingClientRect();
      latest.current(wheelZoomFactor(event.deltaY, event.deltaMode), { x: event.clientX - bounds.left, y: event.clientY - bounds.top });
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, [stage]);
}
