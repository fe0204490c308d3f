/** Brightness and contrast of the image on screen, in percent (100 = as captured). They change what is shown, never the sample. */
export interface Adjustments {
  brightness: number;
  contrast: number;
}

export const AS_CAPTURED: Adjustments = { brightness: 100, contrast: 100 };
export const ADJUSTMENT_RANGE = { min: 25, max: 300, step: 5 } as const;
/** One press of B or C (Shift: down). */
export const ADJUSTMENT_KEY_STEP = 10;

export function adjusted(adjustments: Adjustments, change: Partial<Adjustments>): Adjustments {
  const within = (value: number) => Math.min(ADJUSTMENT_RANGE.max, Math.max(ADJUSTMENT_RANGE.min, Math.round(value)));
  return {
    brightness: within(change.brightness ?? adjustments.brightness),
    contrast: within(change.contrast ?? adjustments.contrast),
  };
}

/** The CSS filter that shows them; none at 100/100, so the image is drawn untouched. */
export function adjustmentFilter({ brightness, contrast }: Adjustments): string {
  return brightness === 100 && contrast === 100 ? 'none' : `brightness(${brightness}%) contrast(${contrast}%)`;
}
