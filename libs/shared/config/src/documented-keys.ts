import { readFile } from 'node:fs/promises';

/**
 * The variables a section of docs/configuration.md documents: the first
 * backticked cell of each table row under the heading `## <section>`.
 */
export async function documentedKeys(docsFile: string, section: string): Promise<string[]> {
  const text = await readFile(docsFile, 'utf8');
  const start = text.indexOf(`\n## ${section}`);
  if (start === -1) throw new Error(`${docsFile} has no "## ${section}" section`);
  const end = text.indexOf('\n## ', start + 1);
  const body = text.slice(start, end === -1 ? undefined : end);
  return [...body.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1] ?? '');
}
