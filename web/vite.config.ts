// The web dashboard's build (scripts/build-web.mjs, part of `npm run build`): a single-page app
// in dist/web/, served by the saeboard server at `/`. No dev server is needed; `npm run dev:web`
// serves it with hot reload, proxying /graphql to a running `saeboard serve` on :4000.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: {
    outDir: path.join(here, '..', 'dist', 'web'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } } },
});
