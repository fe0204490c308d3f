import { useMemo, useState } from 'react';
import { ModelDetailsView } from './model-details';
import { ModelTable } from './model-table';
import { ModelsApi, type ModelSummary } from './models-api';
import { useModels } from './use-models';

/** The model registry, read only: every model, then one model's latest version and alias history. */
export function ModelsPage({ onSessionExpired }: { onSessionExpired: () => void }) {
  const api = useMemo(() => new ModelsApi(fetch), []);
  // Loaded here rather than in the list, so coming back from a model shows the list at once.
  const { models, problem } = useModels(api, onSessionExpired);
  const [picked, setPicked] = useState<ModelSummary | null>(null);
  if (picked) return <ModelDetailsView api={api} model={picked} onBack={() => setPicked(null)} onSessionExpired={onSessionExpired} />;
  return (
    <main>
      <h1>Models</h1>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {models === null && !problem && <p className="notice">Loading models…</p>}
      {models?.length === 0 && (
        <p className="notice">
          No models yet: push one with <code>npx loupe model push</code>
        </p>
      )}
      {models && models.length > 0 && <ModelTable models={models} onPick={setPicked} />}
    </main>
  );
}
