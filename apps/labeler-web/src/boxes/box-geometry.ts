import type { SubmitRequest } from '@loupe/api-contracts';
import type { Point, Size } from '../viewer/viewport';

/** A box as the cloud takes it in an answer: its class and where it is, in image pixels. */
export type AnswerBox = NonNullable<SubmitRequest['boxes']>[number];

/** Where a box is, in image pixels. */
export type Rect = Pick<AnswerBox, 'x' | 'y' | 'width' | 'height'>;

/** The edge or corner of a box a resize drags. */
export type Handle = 'nw' | 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w';
export const HANDLES: readonly Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

// Every rect these functions return lies inside the image, on whole pixels,
// at least one pixel wide and high (the cloud refuses empty boxes): answers
// are pixel boxes, and equal edits give equal answers.

/** The box dragged out from `start` to `end`, whichever way; null for a click that drew nothing. */
export function drawnRect(start: Point, end: Point, image: Size): Rect | null {
  const edges = { left: Math.min(start.x, end.x), right: Math.max(start.x, end.x), top: Math.min(start.y, end.y), bottom: Math.max(start.y, end.y) };
  const rect = fromEdges(clampEdges(edges, image));
  return rect.width >= 1 && rect.height >= 1 ? rect : null;
}

/** The box moved by (dx, dy) image pixels, stopped at the image's edges with its size kept. */
export function movedRect(rect: Rect, dx: number, dy: number, image: Size): Rect {
  const width = Math.min(rect.width, image.width);
  const height = Math.min(rect.height, image.height);
  return {
    x: Math.round(clamp(rect.x + dx, 0, image.width - width)),
    y: Math.round(clamp(rect.y + dy, 0, image.height - height)),
    width: Math.round(width),
    height: Math.round(height),
  };
}

/** The box with the edges `handle` names dragged to `to`; dragged past the opposite edge, it flips. */
export function resizedRect(rect: Rect, handle: Handle, to: Point, image: Size): Rect {
  const edges = { left: rect.x, right: rect.x + rect.width, top: rect.y, bottom: rect.y + rect.height };
  if (handle.includes('w')) edges.left = to.x;
  if (handle.includes('e')) edges.right = to.x;
  if (handle.startsWith('n')) edges.top = to.y;
  if (handle.startsWith('s')) edges.bottom = to.y;
  const ordered = {
    left: Math.min(edges.left, edges.right),
    right: Math.max(edges.left, edges.right),
    top: Math.min(edges.top, edges.bottom),
    bottom: Math.max(edges.top, edges.bottom),
  };
  return atLeastOnePixel(fromEdges(clampEdges(ordered, image)), image);
}

/** Any rect (a model's box, say) made to follow the rules above; null when nothing of it lies on the image. */
export function fittedRect(rect: Rect, image: Size): Rect | null {
  if (![rect.x, rect.y, rect.width, rect.height].every(Number.isFinite)) return null;
  const fitted = fromEdges(clampEdges({ left: rect.x, right: rect.x + rect.width, top: rect.y, bottom: rect.y + rect.height }, image));
  return fitted.width >= 1 && fitted.height >= 1 ? fitted : null;
}

interface Edges {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function clampEdges({ left, right, top, bottom }: Edges, image: Size): Edges {
  const x = (value: number) => Math.round(clamp(value, 0, image.width));
  const y = (value: number) => Math.round(clamp(value, 0, image.height));
  return { left: x(left), right: x(right), top: y(top), bottom: y(bottom) };
}

const fromEdges = ({ left, right, top, bottom }: Edges): Rect => ({ x: left, y: top, width: right - left, height: bottom - top });

/** A resize that squeezed the box flat keeps one pixel, grown away from the image's far edge. */
function atLeastOnePixel(rect: Rect, image: Size): Rect {
  const grow = (start: number, length: number, limit: number) => (length >= 1 ? { start, length } : { start: Math.min(start, limit - 1), length: 1 });
  const horizontal = grow(rect.x, rect.width, image.width);
  const vertical = grow(rect.y, rect.height, image.height);
  return { x: horizontal.start, y: vertical.start, width: horizontal.length, height: vertical.length };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
