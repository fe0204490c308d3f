import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions as Docker reads them: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** Stages, each from its FROM up to the next. */
function stages(instructions: Instruction[]): Instruction[][] {
  const result: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

/** `image:tag` or `image@sha256:...`, where the tag is neither `latest` nor absent; earlier stage names pass. */
function isPinned(image: string, stageNames: Set<string>): boolean {
  if (stageNames.has(image)) return true;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest';
}

const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|ACCESS_KEY|API_KEY)/i;

/** ENV and ARG settings `NAME=value` whose name looks secret and whose value is not empty. */
function secretLookingSettings(instructions: Instruction[]): string[] {
  return instructions
    .filter(({ keyword }) => keyword === 'ENV' || keyword === 'ARG')
    .flatMap(({ args }) => args.split(/\s+/))
    .filter((setting) => {
      const [name = '', value] = setting.split('=');
      return SECRET_NAME.test(name) && value !== undefined && value !== '';
    });
}

describe('structural checks', () => {
  it('flags untagged, latest and secret-bearing instructions', () => {
    const bad = parseDockerfile('FROM node AS a\nFROM node:latest\nENV DB_PASSWORD=hunter2 \\\n  LOG_LEVEL=info\nARG API_TOKEN=abc\n');
    const names = new Set<string>();
    expect(bad.filter((i) => i.keyword === 'FROM').map((i) => isPinned(i.args.split(/\s+/)[0]!, names))).toEqual([false, false]);
    expect(secretLookingSettings(bad)).toEqual(['DB_PASSWORD=hunter2', 'API_TOKEN=abc']);
    expect(isPinned(`node@sha256:${'a'.repeat(64)}`, names)).toBe(true);
    expect(isPinned('registry.local:5000/node', names)).toBe(false);
  });
});

describe.each(['cloud.Dockerfile', 'agent.Dockerfile'])('%s', (file) => {
  const instructions = parseDockerfile(readFileSync(join(import.meta.dirname, file), 'utf8'));
  const built = stages(instructions);
  const final = built.at(-1) ?? [];

  it('builds in more than one stage', () => {
    expect(built.length).toBeGreaterThan(1);
  });

  it('pins every base image by version tag or digest', () => {
    const names = new Set<string>();
    for (const stage of built) {
      const [image = '', as, name] = stage[0]!.args.split(/\s+/);
      expect(isPinned(image, names), `FROM ${image}`).toBe(true);
      if (as?.toUpperCase() === 'AS' && name) names.add(name);
    }
  });

  it('runs the final stage as a user other than root', () => {
    const user = final.filter(({ keyword }) => keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
  });

  it('bakes no secret into ENV or ARG', () => {
    expect(secretLookingSettings(instructions)).toEqual([]);
  });

  it('has a health check and a command in the final stage', () => {
    expect(final.some(({ keyword, args }) => keyword === 'HEALTHCHECK' && !/^NONE\b/i.test(args))).toBe(true);
    expect(final.some(({ keyword }) => keyword === 'CMD' || keyword === 'ENTRYPOINT')).toBe(true);
  });
});
