import type { ModelVersionDto } from '@loupe/api-contracts';
import type { ReactNode } from 'react';
import { AliasHistoryTable } from './alias-history-table';
import { aliasSummary, byteSize, localMinute, metricList, shortHash, validationSummary } from './model-display';
import type { ModelsApi, ModelSummary } from './models-api';
import { useModelDetails } from './use-model-details';

interface ModelDetailsProps {
  api: ModelsApi;
  model: ModelSummary;
  onBack: () => void;
  onSessionExpired: () => void;
}

/** One model: its latest version in full, then who moved its aliases and why. */
export function ModelDetailsView({ api, model, onBack, onSessionExpired }: ModelDetailsProps) {
  const { details, problem } = useModelDetails(api, model, onSessionExpired);
  return (
    <main>
      <h1>
        Model {model.modelName}{' '}
        <button type="button" onClick={onBack}>
          All models
        </button>
      </h1>
      <p>
        {model.task} · aliases: {aliasSummary(model.aliases)}
      </p>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {details === null && !problem && (
        <p className="notice">
          Loading {model.modelName} v{model.latestVersion}…
        </p>
      )}
      {details && (
        <>
          <h2>Latest version: v{details.latest.version}</h2>
          <VersionTable version={details.latest} />
          <h2>Alias history</h2>
          {details.moves.length === 0 ? (
            <p className="notice">
              No alias moves yet: <code>npx loupe model promote</code> points one at a version, with a reason.
            </p>
          ) : (
            <AliasHistoryTable moves={details.moves} />
          )}
        </>
      )}
    </main>
  );
}

function VersionTable({ version }: { version: ModelVersionDto }) {
  const metrics = metricList(version.metrics);
  return (
    <table>
      <tbody>
        <Row label="Aliases">{version.aliases.length === 0 ? 'none' : version.aliases.join(', ')}</Row>
        <Row label="Package">
          {byteSize(version.packageBytes)}, SHA-256 <code title={version.packageSha256}>{shortHash(version.packageSha256)}</code>
        </Row>
        <Row label="Validation">{validationSummary(version.validation)}</Row>
        <Row label="Metrics">{metrics.length === 0 ? 'none recorded' : metrics.map(({ name, value }) => `${name} ${value}`).join(' · ')}</Row>
        <Row label="Parent version">{version.parentVersion === null ? 'none recorded' : `v${version.parentVersion}`}</Row>
        <Row label="Dataset export">{version.datasetExport ?? 'none recorded'}</Row>
        <Row label="Notes">
          {/* Notes are the pusher's own text; keep their line breaks. */}
          <span style={{ whiteSpace: 'pre-wrap' }}>{version.notes === '' ? 'none' : version.notes}</span>
        </Row>
        <Row label="Author">{version.author}</Row>
        <Row label="Created">
          <time dateTime={version.createdAt} title={version.createdAt}>
            {localMinute(version.createdAt)}
          </time>
        </Row>
      </tbody>
    </table>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td>{children}</td>
    </tr>
  );
}
