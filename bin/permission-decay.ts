#!/usr/bin/env node
import { main } from '../lib/cli/main';

main(process.argv.slice(2), {
  stdout: text => process.stdout.write(text),
  stderr: text => process.stderr.write(text),
  env: process.env,
}).then(
  code => {
    process.exitCode = code;
  },
  e => {
    process.stderr.write(`permission-decay: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
