#!/usr/bin/env node
// `npx loupe` inside this repository: the CLI run from its TypeScript source.
import { fileURLToPath, URL } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/main.ts');
