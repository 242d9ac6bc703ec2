#!/usr/bin/env node
// The `smae` command: runs the TypeScript entry point through tsx's loader (no build step needed).
import { register } from 'tsx/esm/api';

register();
await import('../tools/cli/main.ts');
