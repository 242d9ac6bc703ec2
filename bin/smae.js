#!/usr/bin/env node
// The `smae` command. In development it runs the TypeScript sources through tsx's loader (no build step);
// where tsx is not installed (a production install, `npm ci --omit=dev`, the image) it runs the compiled
// CLI from dist/ (`npm run build`). Either way the same entry point: tools/cli/main.
import { existsSync } from 'node:fs';

const source = new URL('../tools/cli/main.ts', import.meta.url);
let tsx;
try {
  tsx = existsSync(source) ? await import('tsx/esm/api') : undefined;
} catch {
  tsx = undefined;
}
if (tsx !== undefined) {
  tsx.register();
  await import(source.href);
} else {
  const compiled = new URL('../dist/tools/cli/main.js', import.meta.url);
  if (!existsSync(compiled)) {
    process.stderr.write('smae: tsx is not installed and dist/ is missing: run `npm run build` first\n');
    process.exit(1);
  }
  await import(compiled.href);
}
