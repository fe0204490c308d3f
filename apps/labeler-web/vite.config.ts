import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { workspaceAliases } from '../../vitest.shared';

const workspaceRoot = new URL('../../', import.meta.url);

export default defineConfig({
  root: import.meta.dirname,
  resolve: { alias: workspaceAliases },
  // React's own Vite plugin is not installed; esbuild compiles JSX to the
  // automatic runtime (react/jsx-runtime), which is all it did here anyway.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: fileURLToPath(new URL('dist/apps/labeler-web', workspaceRoot)),
    // The output lies outside this project's root, so Vite asks before emptying it.
    emptyOutDir: true,
    rollupOptions: {
      // Radix's modules start with "use client" for React Server Components; a browser bundle has no use for it.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  // In development Vite serves the page, and API calls go on to the cloud.
  server: {
    proxy: {
      '/api': {
        target: 'http://127.0.0.1:8080',
        // Vite answers an unreachable target with an empty 500; a 502, as any
        // reverse proxy would send, lets the page say the cloud is down.
        configure: (proxy) =>
          proxy.on('error', (_error, _request, response) => {
            if ('writeHead' in response && !response.headersSent) response.writeHead(502).end();
          }),
      },
    },
  },
});
