import type { ImageGeometry } from '../preprocess/image-decoder';

/** A box in pixels of the original image, clamped to it. */
export interface OriginalBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A box given in model-input pixels, undone through the resize (padding, scale, crop) back to the original image. */
export function originalBox(box: { x1: number; y1: number; x2: number; y2: number }, geometry: ImageGeometry): OriginalBox {
  const mapX = (x: number) => clamp((x - geometry.padX) / geometry.scaleX + geometry.offsetX, geometry.width);
  const mapY = (y: number) => clamp((y - geometry.padY) / geometry.scaleY + geometry.offsetY, geometry.height);
  const x1 = mapX(box.x1);
  const y1 = mapY(box.y1);
  return { x: x1, y: y1, width: mapX(box.x2) - x1, height: mapY(box.y2) - y1 };
}

function clamp(value: number, limit: number): number {
  return Math.min(Math.max(value, 0), limit);
}
