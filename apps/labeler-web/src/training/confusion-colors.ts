/**
 * The confusion matrix's colours: one hue from white (none of the row) to
 * dark blue (all of it), so a dark diagonal is a good model and a dark cell
 * off it a confusion to look at. Shares are of the row (the actual class),
 * so a rare class's mistakes show as clearly as a common one's.
 */

type Rgb = readonly [number, number, number];

const EMPTY: Rgb = [0xff, 0xff, 0xff];
const FULL: Rgb = [0x08, 0x30, 0x6b];
// Black and white text: on any colour one of them reaches 4.58:1 or more
// (WCAG AA asks 4.5:1); the page's softer --text would drop to about 4:1
// on the mid-blues.
const DARK_TEXT = '#000000';
const LIGHT_TEXT = '#ffffff';

/** The share of an actual class's samples predicted as `predicted`; 0 for a class without samples. */
export function cellShare(confusion: readonly (readonly number[])[], actual: number, predicted: number): number {
  const row = confusion[actual] ?? [];
  const total = row.reduce((sum, count) => sum + count, 0);
  return total > 0 ? (row[predicted] ?? 0) / total : 0;
}

/** The fill of a cell whose share of its row is `share` (0 to 1, clamped). */
export function cellFill(share: number): string {
  const t = Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0;
  const mix = (channel: 0 | 1 | 2) => Math.round(EMPTY[channel] + (FULL[channel] - EMPTY[channel]) * t);
  return toHex([mix(0), mix(1), mix(2)]);
}

/** The text colour that reads best on `fill` (a #rrggbb colour). */
export function textOn(fill: string): string {
  return contrastRatio(fill, DARK_TEXT) >= contrastRatio(fill, LIGHT_TEXT) ? DARK_TEXT : LIGHT_TEXT;
}

/** WCAG 2 contrast ratio of two #rrggbb colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [lighter, darker] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (lighter + 0.05) / (darker + 0.05);
}

// WCAG 2 relative luminance: https://www.w3.org/TR/WCAG21/#dfn-relative-luminance
function luminance(hex: string): number {
  const [r, g, b] = fromHex(hex).map((channel) => {
    const c = channel / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function fromHex(hex: string): Rgb {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}

const toHex = (rgb: Rgb): string => `#${rgb.map((channel) => channel.toString(16).padStart(2, '0')).join('')}`;
