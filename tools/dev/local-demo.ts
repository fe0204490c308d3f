import { signedInAsLocalAdmin } from './local-admin';

/** The labeler and reviewer `npm start` adds on one machine, so the loop can be tried at once. */
export const LOCAL_LABELER = { email: 'labeler@loupe.local', password: 'loupe-local-labeler', name: 'Local labeler', role: 'labeler' };
export const LOCAL_REVIEWER = { email: 'reviewer@loupe.local', password: 'loupe-local-reviewer', name: 'Local reviewer', role: 'reviewer' };

/** The project that takes the demo model's samples (tools/demo/models/pcb-aoi). */
export const DEMO_PROJECT = { name: 'PCB defects', modelName: 'pcb-aoi', task: 'classification', classes: ['Normal', 'Defective'] };

/**
 * Adds the local labeler, reviewer and demo project through the REST API,
 * as the local admin; whatever exists from an earlier start is kept (409).
 */
export async function setUpLocalDemo(httpUrl: string): Promise<void> {
  const session = await signedInAsLocalAdmin(httpUrl);
  for (const [path, body] of [
    ['/api/users', LOCAL_LABELER],
    ['/api/users', LOCAL_REVIEWER],
    ['/api/projects', DEMO_PROJECT],
  ] as const) {
    const response = await fetch(`${httpUrl}${path}`, {
      method: 'POST',
      headers: { ...(session.headers as Record<string, string>), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201 && response.status !== 409) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  }
}
