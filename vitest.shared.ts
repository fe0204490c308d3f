import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { NotRunReporter } from './libs/testing/src/not-run-reporter';

interface TsConfigBase {
  compilerOptions: { paths: Record<string, string[]> };
}

const tsconfigBase = JSON.parse(
  readFileSync(new URL('./tsconfig.base.json', import.meta.url), 'utf8'),
) as TsConfigBase;

/** `@loupe/*` imports resolve to library sources, as tsconfig.base.json says. */
export const workspaceAliases = Object.fromEntries(
  Object.entries(tsconfigBase.compilerOptions.paths).map(([name, [target]]) => [
    name,
    fileURLToPath(new URL(target ?? '', import.meta.url)),
  ]),
);

/**
 * Test settings shared by every project. Tests beside the code (`src/`) and
 * multi-process end-to-end tests (`e2e/`) run in the same command.
 */
export function defineProjectTestConfig(projectDir: string) {
  return defineConfig({
    root: projectDir,
    resolve: { alias: workspaceAliases },
    test: {
      include: ['**/*.test.{ts,tsx}'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      // Integration tests start real servers; a 2-core CI box needs the room.
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      env: { TZ: 'UTC', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      passWithNoTests: false,
      // Names every test that could not run on this machine, with its reason.
      reporters: ['default', new NotRunReporter()],
    },
  });
}
