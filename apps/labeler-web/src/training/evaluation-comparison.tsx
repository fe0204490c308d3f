import type { EvaluationDto, TrainingRunDto } from '@loupe/api-contracts';
import { ConfusionMatrix } from './confusion-matrix';
import { percent, pointsAhead } from './training-display';
import styles from './training.module.css';

type Champion = NonNullable<TrainingRunDto['champion']>;

interface MetricRow {
  metric: string;
  challenger: string;
  champion: string;
  difference: string;
}

function metricRows(challenger: EvaluationDto, champion: Champion | null): MetricRow[] {
  const row = (metric: string, value: (evaluation: EvaluationDto) => number, asPercent: boolean): MetricRow => ({
    metric,
    challenger: asPercent ? percent(value(challenger)) : value(challenger).toFixed(3),
    champion: champion === null ? '-' : asPercent ? percent(value(champion)) : value(champion).toFixed(3),
    difference: champion === null ? '-' : asPercent ? pointsAhead(value(challenger), value(champion)) : (value(challenger) - value(champion)).toFixed(3),
  });
  return [
    row('Accuracy', (evaluation) => evaluation.accuracy, true),
    row('Macro-F1', (evaluation) => evaluation.macroF1, true),
    row('Calibration error (lower is better)', (evaluation) => evaluation.calibrationError, false),
  ];
}

/** The candidate beside the model serving the project now, on the same test split: the numbers, each class, and both confusion matrices. */
export function EvaluationComparison({ run, challenger }: { run: TrainingRunDto; challenger: EvaluationDto }) {
  const { champion } = run;
  const challengerName = `Candidate${run.candidateVersion === null ? '' : ` v${run.candidateVersion}`}`;
  const championName = champion === null ? 'Champion (none yet)' : `Champion v${champion.version}`;
  return (
    <>
      <table aria-label="Champion against challenger">
        <thead>
          <tr>
            <th>Metric on {challenger.samples} test samples</th>
            <th>{challengerName}</th>
            <th>{championName}</th>
            <th>Difference</th>
          </tr>
        </thead>
        <tbody>
          {metricRows(challenger, champion).map((row) => (
            <tr key={row.metric}>
              <th scope="row">{row.metric}</th>
              <td className="numeric">{row.challenger}</td>
              <td className="numeric">{row.champion}</td>
              <td className="numeric">{row.difference}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Each class</h3>
      <ClassTable challenger={challenger} champion={champion} />
      <h3>Confusion matrices</h3>
      <div className={styles.charts}>
        <figure className={styles.figure}>
          <figcaption>{challengerName}</figcaption>
          <ConfusionMatrix evaluation={challenger} title={`${challengerName} confusion matrix`} />
        </figure>
        {champion !== null && (
          <figure className={styles.figure}>
            <figcaption>{championName}</figcaption>
            <ConfusionMatrix evaluation={champion} title={`${championName} confusion matrix`} />
          </figure>
        )}
      </div>
    </>
  );
}

function ClassTable({ challenger, champion }: { challenger: EvaluationDto; champion: Champion | null }) {
  return (
    <table aria-label="Precision and recall of each class">
      <thead>
        <tr>
          <th>Class</th>
          <th>Test samples</th>
          <th>Precision</th>
          <th>Recall</th>
          {champion !== null && <th>Champion precision</th>}
          {champion !== null && <th>Champion recall</th>}
        </tr>
      </thead>
      <tbody>
        {challenger.perClass.map((metrics) => {
          const before = champion?.perClass.find((other) => other.className === metrics.className);
          return (
            <tr key={metrics.className}>
              <th scope="row">{metrics.className}</th>
              <td className="numeric">{metrics.support}</td>
              <td className="numeric">{percent(metrics.precision)}</td>
              <td className="numeric">{percent(metrics.recall)}</td>
              {champion !== null && <td className="numeric">{percent(before?.precision)}</td>}
              {champion !== null && <td className="numeric">{percent(before?.recall)}</td>}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
