/** Width and height, in image pixels or in screen (CSS) pixels. */
export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/**
 * Where the image sits on the stage: a point of the image at (ix, iy) is on
 * screen at (ix * scale + x, iy * scale + y), in the stage's CSS pixels.
 */
export interface Viewport {
  scale: number;
  x: number;
  y: number;
}

/** Zoom out to half of fit-to-screen at most; in to 32 screen pixels per image pixel, where single pixels are plain. */
const MIN_FIT_SHARE = 0.5;
const MAX_SCALE = 32;
/** How much of the image stays on the stage however far it is panned, in screen pixels. */
const KEEP_VISIBLE = 48;
/** One step of the zoom keys and buttons. */
export const ZOOM_STEP = 1.25;
/** One step of the arrow keys, in screen pixels. */
export const PAN_STEP = 64;

/** The whole image, as large as the stage allows, centred. */
export function fitView(image: Size, stage: Size): Viewport {
  const scale = fitScale(image, stage);
  return { scale, x: (stage.width - image.width * scale) / 2, y: (stage.height - image.height * scale) / 2 };
}

/** One image pixel per screen pixel, centred on the stage's centre. */
export function actualSizeView(view: Viewport, image: Size, stage: Size): Viewport {
  return zoomAt(view, 1 / view.scale, { x: stage.width / 2, y: stage.height / 2 }, image, stage);
}

/** The scales the view may take: from half of fit-to-screen to 32x (or fit, for an image smaller than 1/32 of the stage). */
export function scaleLimits(image: Size, stage: Size): { min: number; max: number } {
  const fit = fitScale(image, stage);
  return { min: Math.min(fit * MIN_FIT_SHARE, 1), max: Math.max(fit, MAX_SCALE) };
}

/** Zooms by `factor` around `anchor` (a stage point that stays over the same image point), within the limits. */
export function zoomAt(view: Viewport, factor: number, anchor: Point, image: Size, stage: Size): Viewport {
  const { min, max } = scaleLimits(image, stage);
  const scale = clamp(view.scale * factor, min, max);
  const ratio = scale / view.scale;
  return keepOnStage({ scale, x: anchor.x - (anchor.x - view.x) * ratio, y: anchor.y - (anchor.y - view.y) * ratio }, image, stage);
}

/** Moves the image by (dx, dy) screen pixels, keeping part of it on the stage. */
export function panBy(view: Viewport, dx: number, dy: number, image: Size, stage: Size): Viewport {
  return keepOnStage({ ...view, x: view.x + dx, y: view.y + dy }, image, stage);
}

/** The image point under a stage point. */
export function toImagePoint(view: Viewport, point: Point): Point {
  return { x: (point.x - view.x) / view.scale, y: (point.y - view.y) / view.scale };
}

/**
 * The zoom factor for one wheel event: smooth for touchpads (many small
 * deltas) and one step per notch for mouse wheels. Lines and pages are
 * turned into pixels first, as browsers report them in different units.
 */
export function wheelZoomFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaY * (deltaMode === 1 ? 16 : deltaMode === 2 ? 400 : 1);
  return Math.exp(-clamp(pixels, -100, 100) * (Math.log(ZOOM_STEP) / 100));
}

/** The zoom as people read it: 100 is one image pixel per screen pixel. */
export const zoomPercent = (view: Viewport): number => Math.round(view.scale * 100);

function fitScale(image: Size, stage: Size): number {
  if (image.width <= 0 || image.height <= 0 || stage.width <= 0 || stage.height <= 0) return 1;
  return Math.min(stage.width / image.width, stage.height / image.height);
}

/** At least KEEP_VISIBLE pixels of the image (or all of it, when smaller) stay on the stage on each axis. */
function keepOnStage(view: Viewport, image: Size, stage: Size): Viewport {
  const axis = (offset: number, imageLength: number, stageLength: number) => {
    const keep = Math.min(KEEP_VISIBLE, imageLength * view.scale, stageLength);
    return clamp(offset, keep - imageLength * view.scale, stageLength - keep);
  };
  return { scale: view.scale, x: axis(view.x, image.width, stage.width), y: axis(view.y, image.height, stage.height) };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
