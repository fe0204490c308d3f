import type { ProjectDto } from '@loupe/api-contracts';
import type { CloudClient } from '../cloud/cloud-client';
import { UsageError } from '../exit-code';

/**
 * The project a person named on the command line, by its name or its id.
 * Project names are unique in the cloud, so a name names one project; an
 * unknown one is a usage error that lists the names there are.
 */
export async function findProject(cloud: CloudClient, reference: string, help: string): Promise<ProjectDto> {
  const projects = await cloud.listProjects();
  const found = projects.find((project) => project.id === reference) ?? projects.find((project) => project.name === reference);
  if (found) return found;
  const names = projects.map((project) => `"${project.name}"`).join(', ');
  throw new UsageError(`no project has the name or id "${reference}"; ${names === '' ? 'the cloud has no projects yet' : `the projects are ${names}`}`, help);
}
