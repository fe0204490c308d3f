import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nx from '@nx/eslint-plugin';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const workspace = join(import.meta.dirname, '..', '..');
const BOUNDARY_RULE = '@nx/enforce-module-boundaries';

/**
 * Lints one made-up file with the boundary rule exactly as eslint.config.js
 * configures it for that path. Only that rule runs, so the file needs no
 * type information and need not exist; only its project folder must.
 */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const absolutePath = join(workspace, filePath);
  const workspaceConfig = (await new ESLint({ cwd: workspace }).calculateConfigForFile(absolutePath)) as Linter.Config;
  const ruleSettings = workspaceConfig.rules?.[BOUNDARY_RULE];
  if (!ruleSettings) throw new Error(`eslint.config.js does not enable ${BOUNDARY_RULE} for ${filePath}`);
  const eslint = new ESLint({
    cwd: workspace,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        // The plugin's published types predate ESLint 9's flat-config Plugin type.
        plugins: { '@nx': nx as unknown as ESLint.Plugin },
        rules: { [BOUNDARY_RULE]: ruleSettings },
      },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: absolutePath });
  return (result?.messages ?? []).map((message) => message.message);
}

describe('module boundaries', () => {
  beforeAll(async () => {
    // The rule reads Nx's cached project graph; make sure there is one.
    await promisify(execFile)('npx', ['nx', 'show', 'projects'], { cwd: workspace });
  }, 60_000);

  it('lets an app import a shared library and a library of its own side', async () => {
    expect(await boundaryErrors('apps/edge-agent/src/probe.ts', "import { DeviceTopics } from '@loupe/topics';\n")).toEqual([]);
    expect(await boundaryErrors('apps/edge-agent/src/probe.ts', "import { BOUNDARY_FIXTURE_SCOPE } from '@loupe/boundary-fixture-edge';\n")).toEqual(
      [],
    );
  });

  it('rejects the edge agent importing a cloud library, by its scope tag', async () => {
    const errors = await boundaryErrors(
      'apps/edge-agent/src/probe.ts',
      "import { BOUNDARY_FIXTURE_SCOPE } from '@loupe/boundary-fixture-cloud';\n",
    );
    expect(errors).toEqual([
      'A project tagged with "scope:edge" can only depend on libs tagged with "scope:edge", "scope:shared", "scope:testing"',
    ]);
  });

  it('rejects the cloud importing an edge library, by its scope tag', async () => {
    const errors = await boundaryErrors('apps/cloud/src/probe.ts', "import { BOUNDARY_FIXTURE_SCOPE } from '@loupe/boundary-fixture-edge';\n");
    expect(errors).toEqual([
      'A project tagged with "scope:cloud" can only depend on libs tagged with "scope:cloud", "scope:shared", "scope:testing"',
    ]);
  });

  it('rejects a shared library importing a side-specific one', async () => {
    const errors = await boundaryErrors('libs/shared/topics/src/probe.ts', "import { BOUNDARY_FIXTURE_SCOPE } from '@loupe/boundary-fixture-edge';\n");
    expect(errors).toEqual(['A project tagged with "scope:shared" can only depend on libs tagged with "scope:shared", "scope:testing"']);
  });

  it('rejects the edge agent importing the cloud app', async () => {
    const errors = await boundaryErrors(
      'apps/edge-agent/src/probe.ts',
      "import { DeviceService } from '../../cloud/src/fleet/devices/device.service';\n",
    );
    expect(errors.join('\n')).toMatch(/Projects cannot be imported by a relative or absolute path/);
  });

  it('rejects a library importing an app', async () => {
    const errors = await boundaryErrors('libs/shared/topics/src/probe.ts', "import { startCloud } from '../../../../apps/cloud/src/cloud-runtime';\n");
    expect(errors.join('\n')).toMatch(/Projects cannot be imported by a relative or absolute path/);
  });

  it('rejects a utility library depending on a data-access library', async () => {
    const errors = await boundaryErrors('libs/shared/topics/src/probe.ts', "import { MqttLink } from '@loupe/mqtt';\n");
    expect(errors).toEqual(['A project tagged with "type:util" can only depend on libs tagged with "type:util"']);
  });

  it('tags every library with the side its folder names, so the tree shows the architecture', () => {
    const sides = ['edge', 'cloud', 'shared'];
    for (const side of sides) {
      for (const library of readdirSync(join(workspace, 'libs', side))) {
        const { tags } = JSON.parse(readFileSync(join(workspace, 'libs', side, library, 'project.json'), 'utf8')) as { tags: string[] };
        expect({ library, scopes: tags.filter((tag) => tag.startsWith('scope:')) }).toEqual({ library, scopes: [`scope:${side}`] });
      }
    }
    expect(readdirSync(join(workspace, 'libs')).sort()).toEqual([...sides, 'testing'].sort());
  });
});
