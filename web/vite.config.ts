// The dashboard's build: `npm run build:web` (vite build web) writes dist/web, which src/server/dashboard.ts
// serves. Every library is bundled from node_modules: the dashboard loads nothing from the network but its own
// server (the broker's machines may be offline).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // Small enough to read in a browser's devtools when something goes wrong on a deployment.
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npx vite web` during development, with `fink start server` answering the API.
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:4000', ws: true },
      '/graphiql': 'http://127.0.0.1:4000',
      '/cutouts': 'http://127.0.0.1:4000',
    },
  },
});
