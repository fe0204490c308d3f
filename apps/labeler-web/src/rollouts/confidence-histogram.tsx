import { histogramShares } from './rollout-numbers';

// Bars in a fixed box, so the two cohorts' histograms compare by shape
// whatever their sizes.
const HEIGHT_PX = 32;

/** A cohort's top-score histogram, lowest confidence on the left; a dash before any inspection. */
export function ConfidenceHistogram({ histogram, label }: { histogram: readonly number[]; label: string }) {
  const shares = histogramShares(histogram);
  if (shares.every((share) => share === 0)) return <>-</>;
  const description = `${label} confidence histogram, ${shares.length} bins from 0 to 1: ${shares.map((share) => `${Math.round(share * 100)}%`).join(', ')}`;
  return (
    <span className="histogram" role="img" aria-label={description} title={description} style={{ height: HEIGHT_PX }}>
      {shares.map((share, bin) => (
        <span key={bin} style={{ height: Math.max(1, Math.round(share * HEIGHT_PX)) }} />
      ))}
    </span>
  );
}
