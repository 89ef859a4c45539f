#!/usr/bin/env node
// Entry for `npx certwatch` / the package's bin: registers tsx so the TypeScript sources run
// as they are (no build step), then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { runAsProcess } = await import('../src/cli/main.ts');
await runAsProcess();
