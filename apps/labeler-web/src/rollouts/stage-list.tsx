import type { RolloutDetailDto } from '@loupe/api-contracts';
import { stageRows, type StageMark } from './stage-rows';

const MARK_TEXT: Record<StageMark, string> = { done: 'done', current: 'current', upcoming: '', stopped: 'stopped here' };

/** The plan's stages in order; the current one is marked for screen readers too (aria-current). */
export function StageList({ rollout }: { rollout: RolloutDetailDto }) {
  return (
    <ol className="stages">
      {stageRows(rollout).map((stage) => (
        <li key={stage.index} className={`stage ${stage.mark}`} aria-current={stage.mark === 'current' ? 'step' : undefined}>
          <strong>{stage.name}</strong>
          {MARK_TEXT[stage.mark] !== '' && <span className="mark"> ({MARK_TEXT[stage.mark]})</span>}
          <div>takes {stage.takes}</div>
          <div>bake {stage.bake}</div>
          <div className="devices">{stage.devices}</div>
        </li>
      ))}
    </ol>
  );
}
