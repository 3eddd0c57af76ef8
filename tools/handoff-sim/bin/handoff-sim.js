#!/usr/bin/env node
// Installed command: runs the built simulator (pnpm build first).
import '../dist/main.js';
