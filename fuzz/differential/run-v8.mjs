// The V8 half of the differential fuzzer: `node run-v8.mjs MODULE.wasm...` prints, for each
// module, exactly what diff_runner prints for warden (protocol in README.md). Modules run in a
// worker thread that is killed after TIMEOUT_MS: that module then prints "timeout" (skipped).
import fs from 'node:fs';
import v8 from 'node:v8';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

// Import and export types (WebAssembly.Module.imports/exports(m)[i].type): zero arguments of the
// right JS type (0n for i64) and zero results for stub imports. Process-wide, so set it first.
v8.setFlagsFromString('--experimental-wasm-type-reflection');

const TIMEOUT_MS = Number(process.env.DIFF_V8_TIMEOUT_MS ?? 5000);

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);

// Same text as diff_runner's format_value. JS numbers carry f32 values exactly (only NaN bits
// may change, and every NaN prints as "nan").
function formatValue(type, v) {
  switch (type) {
    case 'i32': return String(v | 0);
    case 'i64': return BigInt.asIntN(64, v).toString();
    case 'f32':
      if (Number.isNaN(v)) return 'nan';
      f32[0] = v;
      return '0x' + u32[0].toString(16).padStart(8, '0');
    case 'f64':
      if (Number.isNaN(v)) return 'nan';
      f64[0] = v;
      return '0x' + u64[0].toString(16).padStart(16, '0');
    case 'v128': return 'v128';
    default: return v === null ? 'null' : 'ref';  // funcref, externref
  }
}

function zero(type) {
  return type === 'i64' ? 0n : (type === 'f32' || type === 'f64' || type === 'i32') ? 0 : null;
}

// FNV-1a 64 of the memory up to its last non-zero byte, with its size in pages, as in
// diff_runner. Computed in Wasm, which imports the fuzz module's memory: a JS loop costs ~15 ms
// per module. The module is hash.wat below, compiled with wat2wasm (the scan assumes < 4 GiB):
//   (module (import "m" "memory" (memory 0))
//     (func (export "hash") (result i64) (local $end i32) (local $i i32) (local $h i64)
//       (local.set $end (i32.shl (memory.size) (i32.const 16)))
//       (block $z (loop $l  ;; skip trailing zero words, then trailing zero bytes
//         (br_if $z (i32.eqz (local.get $end)))
//         (br_if $z (i64.ne (i64.load (i32.sub (local.get $end) (i32.const 8))) (i64.const 0)))
//         (local.set $end (i32.sub (local.get $end) (i32.const 8))) (br $l)))
//       (block $z (loop $l
//         (br_if $z (i32.eqz (local.get $end)))
//         (br_if $z (i32.load8_u (i32.sub (local.get $end) (i32.const 1))))
//         (local.set $end (i32.sub (local.get $end) (i32.const 1))) (br $l)))
//       (local.set $h (i64.const 0xcbf29ce484222325))
//       (block $z (loop $l
//         (br_if $z (i32.ge_u (local.get $i) (local.get $end)))
//         (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load8_u (local.get $i)))
//                                (i64.const 0x100000001b3)))
//         (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
//       (local.get $h)))
const hashModule = new WebAssembly.Module(Buffer.from(
  'AGFzbQEAAAABBQFgAAF+Ag0BAW0GbWVtb3J5AgAAAwIBAAcIAQRoYXNoAAAKhQEBggECAn8Bfj8AQRB0IQACQANAIABFDQEg' +
  'AEEIaykDAEIAUg0BIABBCGshAAwACwsCQANAIABFDQEgAEEBay0AAA0BIABBAWshAAwACwtCpcaIocicp/lLIQICQANAIAEg' +
  'AE8NASACIAExAACFQrODgICAIH4hAiABQQFqIQEMAAsLIAIL', 'base64'));

function memoryHasher(memory) {
  if (!memory) return () => 'mem none';
  const hash = new WebAssembly.Instance(hashModule, { m: { memory } }).exports.hash;
  return () => {
    const pages = memory.buffer.byteLength / 65536;
    return `mem ${pages} ${BigInt.asUintN(64, hash()).toString(16).padStart(16, '0')}`;
  };
}

function runModule(path) {
  const out = [];
  let module;
  try {
    module = new WebAssembly.Module(fs.readFileSync(path));
  } catch (e) {
    return out.concat(e instanceof WebAssembly.CompileError ? 'invalid' : 'unreadable');
  }
  const log = [];
  const imports = {};
  for (const im of WebAssembly.Module.imports(module)) {
    if (im.kind !== 'function') return out.concat('unsupported-import');
    const { parameters, results } = im.type;
    const name = `log ${im.module}.${im.name}`;
    (imports[im.module] ??= {})[im.name] = (...args) => {
      log.push([name, ...args.map((a, i) => formatValue(parameters[i], a))].join(' '));
      if (results.length === 0) return undefined;
      const zeros = results.map(zero);
      return results.length === 1 ? zeros[0] : zeros;
    };
  }
  let instance;
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (e) {
    return out.concat(`instantiate: ${e instanceof WebAssembly.RuntimeError ? 'trap' : 'error'}`);
  }
  out.push('instantiate: ok');
  const exports = WebAssembly.Module.exports(module);
  const memoryExport = exports.find((e) => e.kind === 'memory');
  const memory = memoryExport ? instance.exports[memoryExport.name] : null;
  const memoryHash = memoryHasher(memory);
  const hangReset = instance.exports.hangLimitInitializer;
  let calls = 0;
  for (const ex of exports) {
    if (ex.kind !== 'function') continue;
    const { parameters, results } = ex.type;
    if (parameters.includes('v128') || results.includes('v128')) {  // as diff_runner: next export
      out.push(`${ex.name}: skip`);
      continue;
    }
    log.length = 0;
    if (typeof hangReset === 'function' && hangReset.length === 0) {
      try { hangReset(); } catch {}
    }
    let line, stop = false;
    try {
      const r = instance.exports[ex.name](...parameters.map(zero));
      const values = results.length === 1 ? [r] : results.length === 0 ? [] : [...r];
      line = [`${ex.name}: ok`, ...values.map((v, i) => formatValue(results[i], v))].join(' ');
    } catch (e) {
      if (e instanceof RangeError) {  // stack overflow: V8's limit, not comparable
        line = `${ex.name}: exhausted`;
        stop = true;
      } else {
        line = `${ex.name}: ${e instanceof WebAssembly.RuntimeError ? 'trap' : 'error'}`;
      }
    }
    out.push(line, ...log, memoryHash());
    ++calls;  // for triage, as in diff_runner: DIFF_DUMP_DIR/k.mem is the memory after call k
    if (process.env.DIFF_DUMP_DIR && memory) {
      fs.writeFileSync(`${process.env.DIFF_DUMP_DIR}/${calls}.mem`, new Uint8Array(memory.buffer));
    }
    if (stop) break;
  }
  return out;
}

if (isMainThread) {
  // (module (func (export "f")))
  const probe = new WebAssembly.Module(Buffer.from('AGFzbQEAAAABBAFgAAADAgEABwUBAWYAAAoEAQIACw==', 'base64'));
  if (!WebAssembly.Module.exports(probe)[0].type) {
    console.error('run-v8.mjs: this Node lacks --experimental-wasm-type-reflection');
    process.exit(2);
  }
  const paths = process.argv.slice(2);
  let worker = null, pending = null;
  const spawn = () => {
    worker = new Worker(new URL(import.meta.url));
    worker.on('message', (lines) => pending?.(lines));
    // An exception escaping runModule kills the worker: report it (a divergence) and respawn.
    worker.on('error', (e) => {
      worker = null;
      pending?.([`harness-error ${String(e).split('\n')[0]}`]);
    });
  };
  // One worker for all modules (starting one costs ~20 ms); replaced after a timeout.
  const run = (path) => new Promise((resolve) => {
    const timer = setTimeout(() => {
      worker.terminate();
      worker = null;
      resolve(['timeout']);
    }, TIMEOUT_MS);
    pending = (lines) => { clearTimeout(timer); pending = null; resolve(lines); };
    worker.postMessage(path);
  });
  for (const path of paths) {
    if (!worker) spawn();
    const lines = await run(path);
    process.stdout.write(['module ' + path, ...lines, 'end', ''].join('\n'));
  }
  worker?.terminate();
} else {
  parentPort.on('message', (path) => parentPort.postMessage(runModule(path)));
}
