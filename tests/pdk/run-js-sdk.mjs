#!/usr/bin/env node
// Runs Extism plugin calls on the Extism JavaScript SDK (@extism/extism, on
// Node's V8): the independent reference host of warden's differential tests.
//
//   node run-js-sdk.mjs --wasm FILE --func NAME [--input STR | --input-file F]
//       [--config K=V]... [--wasi] [--allow-host GLOB]... [--loop N]
//       [--log-level trace|debug|info|warn|error|silent]
//       [--timeout MS] [--memory-max PAGES] [--var-max BYTES]
//       [--http-response-max BYTES] [--worker auto|on|off]
//
// Prints one JSON line per call on stdout:
//   {"ok":true,"output_b64":"..."}
//   {"ok":false,"error":"MESSAGE","raw_error":"..."}
// "error" is the plugin's own error text when the SDK reports a
// plugin-set error (the SDK's "Plugin-originated error: " prefix is removed;
// "raw_error" keeps the SDK's full message). Calls repeated with --loop use
// the same plugin, so variables persist; the run stops at the first failed
// call. Plugin logs go to stderr as "[level] message".
// Exit status: 0 if every call succeeded, 1 if a call (or plugin creation)
// failed, 2 for a usage error.
//
// SDK notes (2.0.0-rc13 on Node 20, which lacks WebAssembly.Suspending):
// HTTP (allowedHosts) and timeouts only work with runInWorker: true. In the
// main thread without JSPI, the SDK's http_request is a stub that logs
// "http_request is not enabled" and returns 0 instead of failing the call.
// So --worker auto (the default) runs the plugin in a worker exactly when it
// imports http_request, or when --allow-host or --timeout is given; otherwise
// it runs with runInWorker: false. WASI stdout/stderr of the plugin is not
// forwarded (it would corrupt the JSON lines).

import { readFileSync } from 'node:fs';

// The SDK imports node:wasi, which makes Node print an ExperimentalWarning on
// every run; keep stderr for the plugin's logs. Other warnings still show.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = warning instanceof Error ? warning.message : String(warning);
  const type = warning instanceof Error ? warning.name : typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning' && /WASI/.test(text)) return;
  emitWarning(warning, ...rest);
};
const { default: createPlugin } = await import('@extism/extism');

const USAGE =
  'usage: node run-js-sdk.mjs --wasm FILE --func NAME [--input STR | --input-file F] ' +
  '[--config K=V]... [--wasi] [--allow-host GLOB]... [--loop N] [--log-level LEVEL] ' +
  '[--timeout MS] [--memory-max PAGES] [--var-max BYTES] [--http-response-max BYTES] ' +
  '[--worker auto|on|off]';

function usage(message) {
  if (message) process.stderr.write(`run-js-sdk: ${message}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {
    wasm: null,
    func: null,
    input: new Uint8Array(0),
    inputGiven: false,
    config: {},
    wasi: false,
    allowHosts: [],
    loop: 1,
    logLevel: 'silent',
    timeoutMs: null,
    memory: {},
    worker: 'auto',
  };
  const needValue = (i, flag) => {
    if (i + 1 >= argv.length) usage(`${flag} needs a value`);
    return argv[i + 1];
  };
  const nonNegInt = (text, flag) => {
    if (!/^\d+$/.test(text)) usage(`${flag} needs a non-negative integer, got "${text}"`);
    return Number(text);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--wasm': args.wasm = needValue(i, flag); i++; break;
      case '--func': args.func = needValue(i, flag); i++; break;
      case '--input':
        if (args.inputGiven) usage('give at most one of --input and --input-file');
        args.input = new TextEncoder().encode(needValue(i, flag)); args.inputGiven = true; i++; break;
      case '--input-file':
        if (args.inputGiven) usage('give at most one of --input and --input-file');
        args.input = new Uint8Array(readFileSync(needValue(i, flag))); args.inputGiven = true; i++; break;
      case '--config': {
        const kv = needValue(i, flag); i++;
        const eq = kv.indexOf('=');
        if (eq <= 0) usage(`--config needs KEY=VALUE, got "${kv}"`);
        args.config[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--wasi': args.wasi = true; break;
      case '--allow-host': args.allowHosts.push(needValue(i, flag)); i++; break;
      case '--loop':
        args.loop = nonNegInt(needValue(i, flag), flag); i++;
        if (args.loop < 1) usage('--loop needs N >= 1');
        break;
      case '--log-level': args.logLevel = needValue(i, flag); i++; break;
      case '--timeout': args.timeoutMs = nonNegInt(needValue(i, flag), flag); i++; break;
      case '--memory-max': args.memory.maxPages = nonNegInt(needValue(i, flag), flag); i++; break;
      case '--var-max': args.memory.maxVarBytes = nonNegInt(needValue(i, flag), flag); i++; break;
      case '--http-response-max':
        args.memory.maxHttpResponseBytes = nonNegInt(needValue(i, flag), flag); i++; break;
      case '--worker':
        args.worker = needValue(i, flag); i++;
        if (!['auto', 'on', 'off'].includes(args.worker)) usage('--worker is auto, on or off');
        break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0);
      default: usage(`unknown argument "${flag}"`);
    }
  }
  if (!args.wasm) usage('--wasm is required');
  if (!args.func) usage('--func is required');
  if (!['trace', 'debug', 'info', 'warn', 'error', 'silent'].includes(args.logLevel)) {
    usage(`unknown log level "${args.logLevel}"`);
  }
  return args;
}

// Plugin logs go to stderr as "[level] message" (as `warden call` prints
// them); stdout carries only the JSON result lines.
function makeLogger() {
  const write = (level) => (...parts) => {
    process.stderr.write(`[${level}] ${parts.map(String).join(' ')}\n`);
  };
  return {
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    log: write('info'),
  };
}

const PLUGIN_ERROR_PREFIX = 'Plugin-originated error: ';

function errorLine(err) {
  const raw = err instanceof Error ? err.message : String(err);
  const error = raw.startsWith(PLUGIN_ERROR_PREFIX) ? raw.slice(PLUGIN_ERROR_PREFIX.length) : raw;
  return JSON.stringify({ ok: false, error, raw_error: raw });
}

// Resolves once the line is handed to the OS, so that exiting right after
// does not cut off a large output written to a pipe.
function emit(line) {
  return new Promise((resolve, reject) => {
    process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve()));
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const wasmBytes = new Uint8Array(readFileSync(args.wasm));

  let runInWorker;
  if (args.worker === 'on') {
    runInWorker = true;
  } else if (args.worker === 'off') {
    runInWorker = false;
  } else {
    const hasJspi = typeof WebAssembly.Suspending === 'function';
    let importsHttp = false;
    try {
      importsHttp = WebAssembly.Module.imports(new WebAssembly.Module(wasmBytes)).some(
        (imp) => imp.module === 'extism:host/env' && imp.name === 'http_request',
      );
    } catch {
      // Invalid module: let createPlugin report it.
    }
    runInWorker = args.timeoutMs !== null || (!hasJspi && (importsHttp || args.allowHosts.length > 0));
  }

  let plugin;
  try {
    plugin = await createPlugin(
      { wasm: [{ data: wasmBytes }] },
      {
        useWasi: args.wasi,
        enableWasiOutput: false,
        config: args.config,
        allowedHosts: args.allowHosts,
        runInWorker,
        logger: makeLogger(),
        logLevel: args.logLevel,
        timeoutMs: args.timeoutMs,
        memory: args.memory,
      },
    );
  } catch (err) {
    await emit(errorLine(err));
    return 1;
  }

  let status = 0;
  try {
    for (let i = 0; i < args.loop; i++) {
      let output;
      try {
        output = await plugin.call(args.func, args.input);
      } catch (err) {
        await emit(errorLine(err));
        status = 1;
        break;
      }
      const bytes = output === null ? new Uint8Array(0) : output.bytes();
      await emit(JSON.stringify({ ok: true, output_b64: Buffer.from(bytes).toString('base64') }));
    }
  } finally {
    try {
      await plugin.close();
    } catch {
      // Nothing useful to report; the results are already printed.
    }
  }
  return status;
}

main().then(
  (status) => process.exit(status),
  (err) => emit(errorLine(err)).finally(() => process.exit(1)),
);
