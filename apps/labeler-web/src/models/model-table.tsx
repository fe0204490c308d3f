import { aliasSummary } from './model-display';
import type { ModelSummary } from './models-api';

export function ModelTable({ models, onPick }: { models: readonly ModelSummary[]; onPick: (model: ModelSummary) => void }) {
  return (
    <table>
      <thead>
        <tr>
          <th>Model</th>
          <th>Project</th>
          <th>Task</th>
          <th>Latest</th>
          <th>Aliases</th>
        </tr>
      </thead>
      <tbody>
        {models.map((model) => (
          <tr key={model.modelName}>
            <td>
              <button type="button" onClick={() => onPick(model)}>
                {model.modelName}
              </button>
            </td>
            <td>{model.project ?? 'none labels it'}</td>
            <td>{model.task}</td>
            <td className="numeric">v{model.latestVersion}</td>
            <td>{aliasSummary(model.aliases)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
