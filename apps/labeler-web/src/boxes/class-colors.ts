/**
 * A colour per class for boxes, in the project's class order: bright and
 * far apart in hue, each drawn over a dark edge so it shows on light and
 * dark images alike. A class the project does not have is white.
 */
const PALETTE = ['#ffb000', '#00d4ff', '#ff5c9a', '#7dff4d', '#c39bff', '#ff7a1a', '#00ffb0', '#fff04d', '#5ca8ff'];
export const UNKNOWN_CLASS_COLOR = '#ffffff';

export function classColor(className: string, classes: readonly string[]): string {
  const index = classes.indexOf(className);
  return index < 0 ? UNKNOWN_CLASS_COLOR : (PALETTE[index % PALETTE.length] ?? UNKNOWN_CLASS_COLOR);
}
