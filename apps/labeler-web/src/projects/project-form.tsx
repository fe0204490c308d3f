import { PROJECT_TASKS, type ProjectDto } from '@loupe/api-contracts';
import { type FormEvent, useState } from 'react';
import { useProblem } from '../session/use-problem';
import type { ProjectsApi } from './projects-api';
import { projectRequestFrom } from './project-request';

/** Creates a project; the cloud's reason for refusing one shows beside the form. */
export function ProjectForm({ api, onCreated, onSessionExpired }: { api: ProjectsApi; onCreated: (project: ProjectDto) => void; onSessionExpired: () => void }) {
  const { problem, setProblem, fail } = useProblem(onSessionExpired);
  const [created, setCreated] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true);
    setProblem(null);
    setCreated(null);
    api
      .create(projectRequestFrom(new FormData(form)))
      .then((project) => {
        onCreated(project);
        setCreated(project.name);
        form.reset();
      }, fail)
      .finally(() => setBusy(false));
  };
  return (
    <form onSubmit={submit}>
      <fieldset>
        <legend>New project</legend>
        <ProjectFields />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create project'}
        </button>
      </fieldset>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {created && (
        <p className="notice" role="status">
          Created {created}. Its model&apos;s stored samples are in its queue.
        </p>
      )}
    </form>
  );
}

/** What a project is made of: its name, the model whose samples it queues, its task, classes and consensus. */
function ProjectFields() {
  return (
    <>
      <p>
        <label>
          Name <input name="name" required maxLength={200} />
        </label>
      </p>
      <p>
        <label>
          Model name, whose samples the project queues <input name="modelName" required maxLength={200} />
        </label>
      </p>
      <p>
        <label>
          Task{' '}
          <select name="task" defaultValue="classification">
            {PROJECT_TASKS.map((task) => (
              <option key={task}>{task}</option>
            ))}
          </select>
        </label>
      </p>
      <p>
        <label>
          Classes, one per line or separated by commas (at most 9: keys 1-9 answer them)
          <br />
          <textarea name="classes" required rows={4} cols={40} />
        </label>
      </p>
      <p>
        <label>
          Consensus: agreeing answers that settle a sample <input name="consensus" type="number" min={1} max={10} step={1} defaultValue={1} required />
        </label>
      </p>
    </>
  );
}
