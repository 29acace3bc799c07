// `torchfit train --nproc N`: the launcher (src/launch/launcher.ts) with stand-in workers,
// and once end to end with the notebook command on 2 ranks.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchRanks } from '../dist/launch/launcher.js';
import { root } from './support/data.js';

const ENV_LINE = 'console.log([process.env.RANK, process.env.LOCAL_RANK, process.env.WORLD_SIZE, process.env.MASTER_ADDR, process.env.MASTER_PORT].join(" "))';

function collect() {
  const lines = [];
  return { lines, onLine: (line, stream) => lines.push(`${stream} ${line}`) };
}

test('each worker gets the torchrun environment and its output is prefixed with its rank', async (t) => {
  const { lines, onLine } = collect();
  const result = await launchRanks({ nproc: 2, masterAddr: '127.0.0.1', masterPort: 23456, command: process.execPath, args: ['-e', ENV_LINE], onLine });
  t.deepEqual(result, { exitCode: 0, exits: [0, 0] });
  t.deepEqual(lines.sort(), ['stdout [rank 0] 0 0 2 127.0.0.1 23456', 'stdout [rank 1] 1 1 2 127.0.0.1 23456']);
});

test('several machines: --nnodes and --node-rank give global ranks', async (t) => {
  const { lines, onLine } = collect();
  const result = await launchRanks({ nproc: 2, nnodes: 3, nodeRank: 1, masterAddr: '10.1.2.3', masterPort: 29500, command: process.execPath, args: ['-e', ENV_LINE], onLine });
  t.is(result.exitCode, 0);
  t.deepEqual(lines.sort(), ['stdout [rank 2] 2 0 6 10.1.2.3 29500', 'stdout [rank 3] 3 1 6 10.1.2.3 29500']);
});

test('when a worker fails, the launcher stops the others and exits with its code', async (t) => {
  const { lines, onLine } = collect();
  // Rank 1 fails; rank 0 would otherwise wait forever (as a rank waiting on a dead peer could).
  const script = 'if (process.env.RANK === "1") setTimeout(() => { console.error("boom"); process.exit(3); }, 100); else setInterval(() => {}, 1000);';
  const result = await launchRanks({ nproc: 2, masterAddr: '127.0.0.1', masterPort: 23457, command: process.execPath, args: ['-e', script], onLine, killGraceMs: 2000 });
  t.deepEqual(result, { exitCode: 3, failedRank: 1, exits: ['SIGTERM', 3] });
  t.true(lines.includes('stderr [rank 1] boom'));
  t.true(lines.includes('stderr torchfit: rank 1 exited with code 3: stopping the other ranks'));
});

test('a worker that ignores SIGTERM is killed after the grace period', async (t) => {
  const { onLine } = collect();
  const script = 'if (process.env.RANK === "1") setTimeout(() => process.exit(4), 100); else { process.on("SIGTERM", () => {}); setInterval(() => {}, 1000); }';
  const result = await launchRanks({ nproc: 2, masterAddr: '127.0.0.1', masterPort: 23458, command: process.execPath, args: ['-e', script], onLine, killGraceMs: 300 });
  t.deepEqual(result, { exitCode: 4, failedRank: 1, exits: ['SIGKILL', 4] });
});

const cli = (...args) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8', cwd: root, timeout: 240_000 });

test('distributed flags are checked before anything starts', (t) => {
  const cases = [
    [['train', '--nproc', '2', '--rank', '0'], 'torchfit: --nproc starts the ranks itself: use --nnodes and --node-rank for several machines, not --rank/--world-size'],
    [['train', '--rank', '2', '--world-size', '2'], 'torchfit: --rank expects 0 to 1 (--world-size - 1), got 2'],
    [['train', '--rank', '0'], 'torchfit: --rank and --world-size go together'],
    [['train', '--nproc', '2', '--nnodes', '2'], 'torchfit: --nnodes > 1 needs --master-addr: the address of the machine with --node-rank 0'],
    [['train', '--nproc', '0'], "torchfit: --nproc expects an integer >= 1, got '0'"],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stderr.split('\n')[0], message);
  }
});

test('train --nproc 2 runs the notebook on 2 ranks; only rank 0 evaluates and writes', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'torchfit-nproc-'));
  try {
    const r = cli('train', '--nproc', '2', '--model', 'cnn', '--limit', '512', '--epochs', '1', '--batch-size', '32', '--verbose', '2',
      '--dist-timeout', '60000', '--heldout', 'none', '--out', out);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^torchfit: starting 2 workers \(ranks 0\.\.1 of 2\), rendezvous at 127\.0\.0\.1:\d+, 1 thread\(s\) each$/m);
    t.regex(r.stdout, /^\[rank 0\] torchfit: rank 0 of 2, rendezvous at 127\.0\.0\.1:\d+$/m);
    t.regex(r.stdout, /^\[rank 1\] CNN: rank 1 trained 1 epoch\(s\) in [\d.]+ s; rank 0 evaluates, saves and reports$/m);
    t.regex(r.stdout, /^\[rank 0\] CNN test accuracy: /m);
    t.notRegex(r.stdout, /^\[rank 1\] CNN test accuracy/m);
    t.true(existsSync(join(out, 'report.html')));
    t.true(existsSync(join(out, 'cnn.pt')));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    t.deepEqual(results.input.runs[0].history.epoch, [1]);
    t.deepEqual(results.input.runs[0].options.distributed, { worldSize: 2, backend: 'gloo' });
    // 512 images over 2 ranks, batch 32 per rank: 8 steps per epoch on each.
    t.regex(r.stdout, /^\[rank 0\] 8\/8 - /m);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
