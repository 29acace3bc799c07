// Runs ranks of a distributed test as separate processes (test/support/distributed-rank.mjs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { root } from './data.js';

export { freePort } from '../../dist/launch/launcher.js';

const script = fileURLToPath(new URL('./distributed-rank.mjs', import.meta.url));

/**
 * Starts one rank; resolves with { code, signal, result, stderr } when it ends. A watchdog
 * kills it after `limitMs` so that a broken build fails the test instead of hanging it.
 */
export function spawnRank(job, { limitMs = 120_000 } = {}) {
  const child = spawn(process.execPath, [script, JSON.stringify(job)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const watchdog = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      resolve({ code, signal, result: line ? JSON.parse(line.slice(7)) : undefined, stderr });
    });
  });
  return { child, done };
}
