// Runs every engine comparison case at 1 and 2 threads and prints the differences as JSON:
// test/kernels-engine.test.js starts it with ONEDNN_MAX_CPU_ISA set, which oneDNN reads once
// per process, to check the engine's lower instruction-set code on this CPU. With --engine-only it
// prints only the engine's description (whether the engine runs at that instruction set at all).
import { info } from '../../dist/index.js';
import { native } from '../../dist/torch/native.js';
import { cases } from './engine-cases.js';

const binding = native();
const out = { engine: info().convEngine, results: [] };
if (process.argv.includes('--engine-only')) {
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}
for (const threads of [1, 2]) {
  for (const { name, spec } of cases) {
    try {
      out.results.push({ name, threads, diffs: binding._compareKernels({ ...spec, seed: 5, threads }) });
    } catch (error) {
      out.results.push({ name, threads, error: String(error?.message ?? error) });
    }
  }
}
process.stdout.write(JSON.stringify(out));
