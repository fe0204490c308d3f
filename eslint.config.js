// One lint configuration for every project. Module boundaries are the point:
// the tags in each project.json and the constraints below are the architecture.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const onlyTests = ['describe', 'it', 'test'].flatMap((object) => [
  { object, property: 'only', message: 'A focused test hides the rest of the suite; remove .only.' },
  { object, property: 'skip', message: 'A skipped test proves nothing; fix it or delete it.' },
]);

// The folders say the same: libs/edge, libs/cloud and libs/shared. Test
// helpers (libs/testing) and tools (benchmarks, the fleet simulator, the
// demo) start both halves, so they may reach every library.
const depConstraints = [
  { sourceTag: 'scope:edge', onlyDependOnLibsWithTags: ['scope:edge', 'scope:shared', 'scope:testing'] },
  { sourceTag: 'scope:cloud', onlyDependOnLibsWithTags: ['scope:cloud', 'scope:shared', 'scope:testing'] },
  { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:web', 'scope:shared', 'scope:testing'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:testing'] },
  { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:edge', 'scope:cloud', 'scope:shared', 'scope:testing'] },
  { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:edge', 'scope:cloud', 'scope:shared', 'scope:testing'] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data', 'type:domain', 'type:util'] },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data', 'type:domain', 'type:util'] },
  { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:data', 'type:domain', 'type:util'] },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.nx/**',
      '**/generated/**',
      '**/coverage/**',
      '.data/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', ...onlyTests],
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Build and test configuration is workspace plumbing, not a project's code.
    files: ['**/vitest.config.ts', '**/vitest.browser.config.ts', '**/vite.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Command-line programs talk to a person on a terminal.
    files: ['apps/cli/**/*.ts', 'apps/*/scripts/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
