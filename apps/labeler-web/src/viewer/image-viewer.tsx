import { useRef, useState, type ReactNode } from 'react';
import { adjustmentFilter, type Adjustments } from './adjustments';
import styles from './image-viewer.module.css';
import { useSpaceHeld } from './use-space-held';
import { useStagePointer, type ImageDrag } from './use-stage-pointer';
import type { ViewportControl } from './use-viewport';
import { useWheelZoom } from './use-wheel-zoom';
import type { Point, Viewport } from './viewport';

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

/** Past this zoom the image's pixels are drawn as squares, as an inspector wants to see them, not smoothed. */
const PIXELATED_FROM_SCALE = 4;

/** The sample image on a dark stage, zoomed with the wheel and panned by dragging, with layers drawn over it. */
export function ImageViewer({ src, alt, sampleId, viewport, adjustments, dragPans, onDragStart, children }: ImageViewerProps) {
  const stage = useRef<HTMLDivElement | null>(null);
  const spaceHeld = useSpaceHeld(!dragPans);
  const pointer = useStagePointer({ viewport, dragPans, spaceHeld, onDragStart });
  useWheelZoom(stage, viewport.zoomBy);
  // The address whose image would not load: said on the stage instead of an empty one.
  const [broken, setBroken] = useState<string | null>(null);

  const setStage = (element: HTMLDivElement | null) => {
    stage.current = element;
    viewport.stageRef(element);
  };
  const cursor = dragPans || spaceHeld.current ? styles.grab : styles.crosshair;
  return (
    <div ref={setStage} className={`${styles.stage} ${cursor}`} {...pointer}>
      <ImageLayer viewport={viewport}>
        <img
          src={src}
          alt={alt}
          data-sample-id={sampleId}
          draggable={false}
          className={styles.image}
          style={{ filter: adjustmentFilter(adjustments), imageRendering: viewport.view && viewport.view.scale >= PIXELATED_FROM_SCALE ? 'pixelated' : 'auto' }}
          onLoad={(event) => viewport.setImage({ width: event.currentTarget.naturalWidth, height: event.currentTarget.naturalHeight })}
          onError={() => setBroken(src)}
        />
        {viewport.view && viewport.image && children?.(viewport.view)}
      </ImageLayer>
      {broken === src && (
        <p className={styles.broken} role="alert">
          The image of this sample did not load. Skip it (S), or reload the page to try again.
        </p>
      )}
    </div>
  );
}

/** The image and what is drawn over it, in image pixels, scaled and moved as one; hidden until the view is known. */
function ImageLayer({ viewport: { view, image }, children }: { viewport: ViewportControl; children: ReactNode }) {
  return (
    <div
      className={styles.layer}
      style={view && image ? { width: image.width, height: image.height, transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` } : { visibility: 'hidden' }}
    >
      {children}
    </div>
  );
}
