#!/usr/bin/env node
// npm bin of the `cipherdex` command: registers tsx's loader, then runs the TypeScript CLI as is.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
