import type { EvaluationDto } from '@loupe/api-contracts';
import { cellFill, cellShare, textOn } from './confusion-colors';
import styles from './training.module.css';

const CELL = 44;
const CHAR_WIDTH = 7;
const MAX_NAME = 22;
const GAP = 6;
const AXIS_TITLE = 18;

const shortName = (name: string) => (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name);

/** What a screen reader says for the whole picture: every row's counts in words. */
function summary(evaluation: EvaluationDto, title: string): string {
  const rows = evaluation.classes.map(
    (actual, row) => `actual ${actual}: ${evaluation.classes.map((predicted, column) => `${evaluation.confusion[row]?.[column] ?? 0} as ${predicted}`).join(', ')}`,
  );
  return `${title}, ${evaluation.samples} test samples, rows actual, columns predicted. ${rows.join('; ')}.`;
}

/**
 * The confusion matrix as a heat map: a row per actual class, a column per
 * predicted class, each cell's count on a shade of its share of the row.
 */
export function ConfusionMatrix({ evaluation, title }: { evaluation: EvaluationDto; title: string }) {
  const { classes, confusion } = evaluation;
  const nameWidth = Math.max(...classes.map((name) => shortName(name).length), 1) * CHAR_WIDTH;
  // Column names are turned 45°, so they take about 0.7 of their length upwards.
  const left = AXIS_TITLE + nameWidth + GAP;
  const top = AXIS_TITLE + Math.ceil(nameWidth * 0.72) + GAP;
  const size = classes.length * CELL;
  const width = left + size + nameWidth * 0.72 + GAP;
  const height = top + size + GAP;
  return (
    <svg className={styles.chart} width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary(evaluation, title)}>
      <text x={left + size / 2} y={12} textAnchor="middle" fontWeight={600}>
        Predicted
      </text>
      <text transform={`translate(12 ${top + size / 2}) rotate(-90)`} textAnchor="middle" fontWeight={600}>
        Actual
      </text>
      {classes.map((name, index) => (
        <g key={name}>
          <text x={left - GAP} y={top + index * CELL + CELL / 2} textAnchor="end" dominantBaseline="middle" fill="currentColor">
            <title>{name}</title>
            {shortName(name)}
          </text>
          <text transform={`translate(${left + index * CELL + CELL / 2} ${top - GAP}) rotate(-45)`} fill="currentColor">
            <title>{name}</title>
            {shortName(name)}
          </text>
        </g>
      ))}
      {confusion.map((row, actual) => row.map((count, predicted) => <MatrixCell key={`${actual}-${predicted}`} {...{ evaluation, actual, predicted, count, left, top }} />))}
    </svg>
  );
}

interface CellProps {
  evaluation: EvaluationDto;
  actual: number;
  predicted: number;
  count: number;
  left: number;
  top: number;
}

function MatrixCell({ evaluation, actual, predicted, count, left, top }: CellProps) {
  const share = cellShare(evaluation.confusion, actual, predicted);
  const fill = cellFill(share);
  const x = left + predicted * CELL;
  const y = top + actual * CELL;
  return (
    <g>
      <title>{`actual ${evaluation.classes[actual]}, predicted ${evaluation.classes[predicted]}: ${count} (${Math.round(share * 100)}% of the row)`}</title>
      <rect className={styles.cellEdge} x={x} y={y} width={CELL} height={CELL} fill={fill} />
      <text x={x + CELL / 2} y={y + CELL / 2} textAnchor="middle" dominantBaseline="central" fill={textOn(fill)} fontWeight={actual === predicted ? 700 : 400}>
        {count}
      </text>
    </g>
  );
}
