// The child process of test/leak.test.js: runs the leak-check cycles on its own heap and
// prints one line `JSON {records, growth}`.
//   node test/support/leak-child.mjs CYCLES WARMUP
import { fullGc, growth, leakData, runCycles } from './leak-cycles.js';

const [cycles, warmup] = process.argv.slice(2).map(Number);
const data = await leakData(256);
await fullGc();
const records = await runCycles({ cycles, model: 'cnn', data });
console.log(`JSON ${JSON.stringify({ records, growth: growth(records, warmup) })}`);
if (records.some((r) => r.live !== r.baseline)) process.exitCode = 1;
