#!/usr/bin/env node
// The CLI as built by `npm install` (or `npm run build`) into dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('syncopate is not built yet: run `npm run build` (npm install does it) in its folder');
  process.exit(1);
}
await import(main.href);
