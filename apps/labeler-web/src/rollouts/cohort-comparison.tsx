import type { RolloutDetailDto } from '@loupe/api-contracts';
import { baselineSource, cohortRows } from './cohort-rows';
import { ConfidenceHistogram } from './confidence-histogram';
import { gateRows, gateVerdict } from './gate-rows';

/** The metrics of the cohort on the new version beside those of the old one, then each gate's verdict. */
export function CohortComparison({ rollout }: { rollout: RolloutDetailDto }) {
  return (
    <>
      <p>Baseline: {baselineSource(rollout)}.</p>
      <CohortTable rollout={rollout} />
      <p className={`verdict ${rollout.gates.verdict}`}>{gateVerdict(rollout)}</p>
      <GateTable rollout={rollout} />
    </>
  );
}

/** Each gate metric of both cohorts, then their confidence histograms. */
function CohortTable({ rollout }: { rollout: RolloutDetailDto }) {
  const candidate = `Candidate v${rollout.toVersion}`;
  const baseline = `Baseline v${rollout.fromVersion}`;
  return (
    <table className="cohorts">
      <thead>
        <tr>
          <th>Metric</th>
          <th>{candidate}</th>
          <th>{baseline}</th>
        </tr>
      </thead>
      <tbody>
        {cohortRows(rollout).map((row) => (
          <tr key={row.metric}>
            <th scope="row">{row.metric}</th>
            <td className="numeric">{row.candidate}</td>
            <td className="numeric">{row.baseline}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">Confidence histogram</th>
          <td>
            <ConfidenceHistogram histogram={rollout.cohorts.candidate.confidenceHistogram} label={candidate} />
          </td>
          <td>
            <ConfidenceHistogram histogram={rollout.cohorts.baseline.confidenceHistogram} label={baseline} />
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/** Each gate: what it measured from the cohorts, the plan's limit and the result. */
function GateTable({ rollout }: { rollout: RolloutDetailDto }) {
  return (
    <table className="gates">
      <thead>
        <tr>
          <th>Gate</th>
          <th>Candidate</th>
          <th>Baseline</th>
          <th>Measured</th>
          <th>Limit</th>
          <th>Result</th>
        </tr>
      </thead>
      <tbody>
        {gateRows(rollout).map((row) => (
          <tr key={row.gate}>
            <th scope="row">{row.label}</th>
            <td className="numeric">{row.candidate}</td>
            <td className="numeric">{row.baseline}</td>
            <td className="numeric">{row.measured}</td>
            <td className="numeric">{row.limit}</td>
            <td className={row.result === 'no data' ? '' : row.result}>{row.result}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
