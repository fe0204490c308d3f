import { z } from 'zod';

/**
 * The value of a model's graph that a trainer reads as features: a feature
 * map [batch, dimension, height, width], pooled by global average into one
 * vector of `dimension` per image ([batch, dimension, 1, 1] for a model that
 * already emits a vector). It may be a graph output or any intermediate
 * value: a classifier's last block serves as well as a backbone's own output.
 * A manifest that names one makes its model a backbone a head can be trained on.
 */
export const featureOutputSchema = z.object({
  output: z.string().min(1),
  dimension: z.number().int().positive(),
});

export type FeatureOutput = z.output<typeof featureOutputSchema>;
