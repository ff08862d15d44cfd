#!/usr/bin/env node
// The CLI is TypeScript, run through tsx (a dependency): register its loader, then start the CLI.
// Node alone cannot run src/cli/main.ts (Node 20 has no type stripping, and later versions do
// not map the sources' `.js` imports to their `.ts` files).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
