#!/usr/bin/env node
// Writes infra/nats/auth.conf (see ./auth-conf.mjs). Run from anywhere after `npx tsc -b libs/launcher`.
import { writeFileSync } from 'node:fs';
import { renderAuthConf } from './auth-conf.mjs';

const file = new URL('./auth.conf', import.meta.url);
writeFileSync(file, renderAuthConf());
process.stdout.write(`wrote ${file.pathname}\n`);
