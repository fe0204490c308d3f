import type { TrainingRunDto } from '@loupe/api-contracts';
import { learningCurve, linearScale, linePath, niceTicks, scoreDomain, type CurvePoint, type Scale } from './learning-curve-points';
import { percent } from './training-display';
import styles from './training.module.css';

const WIDTH = 520;
const HEIGHT = 260;
const MARGIN = { left: 52, right: 20, top: 14, bottom: 44 };

interface Axes {
  x: Scale;
  y: Scale;
  xTicks: number[];
  yTicks: number[];
}

function axesFor(points: readonly CurvePoint[]): Axes {
  const labels = points.map((point) => point.labels);
  const [xMin, xMax] = [Math.min(...labels), Math.max(...labels)];
  const [yMin, yMax] = scoreDomain(points);
  return {
    x: linearScale([xMin, xMax], [MARGIN.left, WIDTH - MARGIN.right]),
    y: linearScale([yMin, yMax], [HEIGHT - MARGIN.bottom, MARGIN.top]),
    // Label counts are whole: a half label would be a tick that means nothing.
    xTicks: niceTicks(xMin, xMax, 6).filter(Number.isInteger),
    yTicks: niceTicks(yMin, yMax, 5),
  };
}

/** The challenger's test accuracy and macro-F1 against the labels each run learned from: what more labels bought. */
export function LearningCurve({ runs }: { runs: readonly TrainingRunDto[] }) {
  const points = learningCurve(runs);
  if (points.length === 0) return <p className="notice">The learning curve appears once a run has finished.</p>;
  const axes = axesFor(points);
  const description = `Learning curve: ${points.map((point) => `${point.labels} labels, accuracy ${percent(point.accuracy)}, macro-F1 ${percent(point.macroF1)}`).join('; ')}.`;
  return (
    <figure className={styles.figure}>
      <figcaption>Learning curve: test scores by labels</figcaption>
      <svg className={styles.chart} width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={description}>
        <CurveAxes axes={axes} />
        <path className={styles.accuracyLine} d={linePath(points, axes.x, axes.y, (point) => point.accuracy)} />
        <path className={styles.f1Line} d={linePath(points, axes.x, axes.y, (point) => point.macroF1)} />
        {points.map((point) => (
          <g key={point.runId}>
            <circle className={styles.accuracyPoint} cx={axes.x(point.labels)} cy={axes.y(point.accuracy)} r={4}>
              <title>{`${point.labels} labels: accuracy ${percent(point.accuracy)}`}</title>
            </circle>
            <rect className={styles.f1Point} x={axes.x(point.labels) - 3.5} y={axes.y(point.macroF1) - 3.5} width={7} height={7}>
              <title>{`${point.labels} labels: macro-F1 ${percent(point.macroF1)}`}</title>
            </rect>
          </g>
        ))}
      </svg>
      <ul className={styles.legend}>
        <li>
          <span className={styles.swatchAccuracy} aria-hidden="true" />
          Accuracy (dots)
        </li>
        <li>
          <span className={styles.swatchF1} aria-hidden="true" />
          Macro-F1 (squares)
        </li>
      </ul>
    </figure>
  );
}

function CurveAxes({ axes }: { axes: Axes }) {
  const bottom = HEIGHT - MARGIN.bottom;
  return (
    <g>
      {axes.yTicks.map((tick) => (
        <g key={`y${tick}`}>
          <line className={styles.gridLine} x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={axes.y(tick)} y2={axes.y(tick)} />
          <text x={MARGIN.left - 6} y={axes.y(tick)} textAnchor="end" dominantBaseline="middle" fill="currentColor">
            {`${Math.round(tick * 100)}%`}
          </text>
        </g>
      ))}
      {axes.xTicks.map((tick) => (
        <text key={`x${tick}`} x={axes.x(tick)} y={bottom + 16} textAnchor="middle" fill="currentColor">
          {tick}
        </text>
      ))}
      <line className={styles.axis} x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={bottom} y2={bottom} />
      <text x={(MARGIN.left + WIDTH - MARGIN.right) / 2} y={HEIGHT - 6} textAnchor="middle" fill="currentColor">
        Labels in the dataset version
      </text>
    </g>
  );
}
