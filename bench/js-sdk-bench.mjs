// The Extism JS SDK (tests/pdk/node_modules/@extism/extism) on Node: the same measurements as
// plugin_bench: echo calls with a 16-byte input (calls per second) and plugin creation from the
// ~2 MB module plus its first call (medians of repeated runs).
//   node bench/js-sdk-bench.mjs BIG_PLUGIN.wasm [seconds-per-measure]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../tests/pdk/package.json"));
const { default: createPlugin } = await import(require.resolve("@extism/extism"));
const extism = { createPlugin };
const wasm = readFileSync(process.argv[2]);
const seconds = Number(process.argv[3] || 3);
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const plugin = await extism.createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false, runInWorker: false });
const input = "x".repeat(16);
for (let i = 0; i < 1000; i++) await plugin.call("echo", input);  // warm up
const rates = [];
for (let r = 0; r < 5; r++) {
  let n = 0;
  const end = performance.now() + (seconds * 1000) / 5;
  const start = performance.now();
  while (performance.now() < end) {
    const out = await plugin.call("echo", input);
    if (out.bytes().length !== 16) throw new Error("echo failed");
    n++;
  }
  rates.push(n / ((performance.now() - start) / 1000));
}
await plugin.close();

const creates = [];
for (let r = 0; r < 9; r++) {
  const start = performance.now();
  const p = await extism.createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false, runInWorker: false });
  await p.call("echo", "x");
  creates.push(performance.now() - start);
  await p.close();
}
console.log(`js-sdk echo 16 B: ${Math.round(median(rates))} calls/s (median of 5)`);
console.log(`js-sdk create ${(wasm.length / 1e6).toFixed(2)} MB plugin + first call: ${median(creates).toFixed(1)} ms (median of 9)`);
