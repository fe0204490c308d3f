import type { ClaimDto } from '@loupe/api-contracts';
import { leadingPrediction } from './labeling-keys';

/** The sample's image, large, with the model's guess under it. */
export function SampleFigure({ sample }: { sample: ClaimDto }) {
  const guess = leadingPrediction(sample.prediction, sample.verdict);
  return (
    <figure>
      <img src={sample.imageUrl} alt={`sample from ${sample.stationId}`} className="sample" />
      <figcaption>
        Model {sample.modelVersion} says <strong>{guess.label}</strong>
        {guess.confidence === undefined ? '' : ` (${Math.round(guess.confidence * 100)}%)`} · {sample.stationId}
      </figcaption>
    </figure>
  );
}
