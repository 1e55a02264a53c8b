import { defineConfig } from 'vite';

// Preact through esbuild's automatic JSX runtime: no plugin needed. The output has no inline
// script (the server's Content-Security-Policy forbids them): no module-preload polyfill, and
// every asset is a file with a content hash.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` proxies the API to a running stackhouse.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
