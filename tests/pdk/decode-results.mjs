#!/usr/bin/env node
// Turns the JSON lines of run-js-sdk.mjs into what `warden call` / `extism
// call` would print, so the two can be compared byte for byte.
//
//   node decode-results.mjs RESULTS.jsonl STDOUT_FILE ERROR_FILE
//
// STDOUT_FILE gets each successful call's output followed by "\n"; ERROR_FILE
// gets the error message of the failed call (empty when none failed). Exits 0
// when every call succeeded, 1 when one failed, 3 when RESULTS is malformed.
import { readFileSync, writeFileSync } from 'node:fs';

const [resultsPath, stdoutPath, errorPath] = process.argv.slice(2);
if (!errorPath) {
  process.stderr.write('usage: node decode-results.mjs RESULTS.jsonl STDOUT_FILE ERROR_FILE\n');
  process.exit(3);
}

const chunks = [];
let error = '';
let failed = false;
const lines = readFileSync(resultsPath, 'utf8').split('\n').filter((line) => line !== '');
if (lines.length === 0) {
  process.stderr.write(`decode-results: ${resultsPath} has no result lines\n`);
  process.exit(3);
}
for (const line of lines) {
  let result;
  try {
    result = JSON.parse(line);
  } catch {
    process.stderr.write(`decode-results: not a JSON line: ${line.slice(0, 200)}\n`);
    process.exit(3);
  }
  if (result.ok === true && typeof result.output_b64 === 'string') {
    chunks.push(Buffer.from(result.output_b64, 'base64'), Buffer.from('\n'));
  } else if (result.ok === false && typeof result.error === 'string') {
    failed = true;
    error = result.error;
  } else {
    process.stderr.write(`decode-results: unexpected result: ${line.slice(0, 200)}\n`);
    process.exit(3);
  }
}
writeFileSync(stdoutPath, Buffer.concat(chunks));
writeFileSync(errorPath, error);
process.exit(failed ? 1 : 0);
