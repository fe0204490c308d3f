import type { CreateProjectRequest } from '@loupe/api-contracts';

/**
 * The project form's fields as the request to create it. Only shapes them:
 * the cloud judges them, and its message (a blank name, ten classes, a task
 * it does not know) is the one the form shows.
 */
export function projectRequestFrom(form: FormData): CreateProjectRequest {
  const field = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  return {
    name: field('name'),
    modelName: field('modelName'),
    // The form's select offers only PROJECT_TASKS.
    task: field('task') as CreateProjectRequest['task'],
    classes: parseClassList(field('classes')),
    consensus: Number(field('consensus') || '1'),
  };
}

/** Classes one per line or separated by commas, blanks dropped, in the order typed: keys 1-9 follow it. */
export function parseClassList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((className) => className.trim())
    .filter((className) => className !== '');
}
