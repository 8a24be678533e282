import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

// One build for both hosts: relative asset URLs (`base: './'`) load the same files from the agent's HTTP
// server and from `file://` in the Electron window.
export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: path.join(here, '..', 'dist', 'renderer'),
    emptyOutDir: true,
    target: 'es2022',
    // The CSP forbids inline scripts, so keep the module preload polyfill (an inline script) out.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
});
