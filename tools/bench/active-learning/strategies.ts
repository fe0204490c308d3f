import { DEFAULT_SAMPLING_POLICY } from '@loupe/sampling';
import type { Strategy } from './pool-selection';

/**
 * Share of each round's labels the default strategy takes at random. On a
 * device the random share is drawn per inspection (randomShare, for a fair
 * evaluation sample) and how many of those get labeled is the labeling
 * queue's doing. 0: in every mix measured, random labels cost labels on
 * both protocols (figures in libs/edge/sampling/src/sampling-policy.ts).
 */
export const DEFAULT_ROUND_RANDOM_SHARE = 0;

/** The agent's default selection as the benchmark runs it: the default policy's measure and diversity. */
export const DEFAULT_STRATEGY: Strategy = {
  name: 'default',
  measure: DEFAULT_SAMPLING_POLICY.measure,
  diversity: DEFAULT_SAMPLING_POLICY.diversity,
  randomShare: DEFAULT_ROUND_RANDOM_SHARE,
};

export const RANDOM_STRATEGY: Strategy = { name: 'random', measure: 'margin', diversity: 0, randomShare: 1 };

const ALTERNATIVES: readonly Strategy[] = [
  { name: 'least_confidence', measure: 'least_confidence', diversity: 0, randomShare: 0 },
  { name: 'margin', measure: 'margin', diversity: 0, randomShare: 0 },
  { name: 'entropy', measure: 'entropy', diversity: 0, randomShare: 0 },
  { name: 'diversity', measure: 'margin', diversity: 1, randomShare: 0 },
  { name: 'margin+spread0.3', measure: 'margin', diversity: 0.3, randomShare: 0 },
  { name: 'margin+random0.1', measure: 'margin', diversity: 0, randomShare: 0.1 },
  { name: 'margin+spread0.3+random0.2', measure: 'margin', diversity: 0.3, randomShare: 0.2 },
  { name: 'margin+spread0.6+random0.1', measure: 'margin', diversity: 0.6, randomShare: 0.1 },
];

const sameMix = (a: Strategy, b: Strategy) => a.measure === b.measure && a.diversity === b.diversity && a.randomShare === b.randomShare;

/**
 * Every strategy the benchmark compares with random: the default, each
 * measure alone, spread alone, and mixes around the default; an
 * alternative that is the default's mix is left out (the same seeds would
 * give the same figures).
 */
export const STRATEGIES: readonly Strategy[] = [DEFAULT_STRATEGY, RANDOM_STRATEGY, ...ALTERNATIVES.filter((strategy) => !sameMix(strategy, DEFAULT_STRATEGY))];
