import type { VerdictRule } from '../manifest/model-manifest';
import type { Prediction } from './prediction';

/** What one head of the model said about an image. */
export interface HeadResult {
  head: string;
  role: 'vote' | 'report';
  prediction: Prediction;
}

/** The station's verdict from all heads, with each head's own result for the report. */
export interface StationVerdict {
  verdict: 'reject' | 'pass';
  /** Voting heads whose verdict was reject, in head order. */
  rejectedBy: string[];
  heads: HeadResult[];
}

/**
 * Combines the heads' verdicts by the manifest's rule: `any` rejects when
 * one voting head rejects (a Discover head and its Monitors: every one of
 * them can stop a unit), `all` when every voting head does, `atLeast` when
 * that many do. Heads in the `report` role are returned but never count.
 */
export function combineVerdicts(results: readonly HeadResult[], rule: VerdictRule): StationVerdict {
  const voting = results.filter((result) => result.role === 'vote');
  if (voting.length === 0) throw new RangeError('no head votes: the manifest must give at least one head the vote role');
  const rejectedBy = voting.filter((result) => result.prediction.verdict === 'reject').map((result) => result.head);
  const needed = rule === 'any' ? 1 : rule === 'all' ? voting.length : rule.atLeast;
  return { verdict: rejectedBy.length >= needed ? 'reject' : 'pass', rejectedBy, heads: [...results] };
}
