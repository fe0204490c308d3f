import { Collapsible } from 'radix-ui';
import { percent, type ModelGuess } from './model-guess';
import styles from './panel.module.css';

interface ModelGuessViewProps {
  guess: ModelGuess;
  modelVersion: string;
  stationId: string;
  /** Whether every class score shows; P toggles it. */
  scoresOpen: boolean;
  onScoresOpen: (open: boolean) => void;
}

/** The model's verdict with the score behind it, and every class score on demand. */
export function ModelGuessView({ guess, modelVersion, stationId, scoresOpen, onScoresOpen }: ModelGuessViewProps) {
  return (
    <section className={styles.section} aria-label="The model's guess">
      <p className={styles.guess}>
        Model v{modelVersion}: <strong>{guess.verdict}</strong>
        {guess.leading === undefined && guess.probability !== undefined && <> {percent(guess.probability)}</>}
        {guess.leading && (
          <>
            {' '}
            · {guess.leading.label} {percent(guess.leading.score)}
          </>
        )}
        {guess.leading === undefined && guess.probability === undefined && guess.scores.length > 0 && <> · no class leads</>}
      </p>
      <p className={styles.muted}>Station {stationId}</p>
      {guess.scores.length > 0 && (
        <Collapsible.Root open={scoresOpen} onOpenChange={onScoresOpen}>
          <Collapsible.Trigger className={styles.disclosure} aria-keyshortcuts="P">
            {scoresOpen ? 'Hide' : 'Show'} all {guess.scores.length} scores <kbd>P</kbd>
          </Collapsible.Trigger>
          <Collapsible.Content>
            <table className={styles.scores}>
              <caption className="visually-hidden">Every class score of the model, highest first</caption>
              <tbody>
                {guess.scores.map((score) => (
                  <tr key={score.label}>
                    <th scope="row">{score.label}</th>
                    <td className="numeric">{percent(score.score)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Collapsible.Content>
        </Collapsible.Root>
      )}
    </section>
  );
}
