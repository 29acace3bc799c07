/**
 * The local launcher behind `torchfit train --nproc N`, like torchrun: starts N worker
 * processes with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT set, prefixes
 * their output with their rank, and when one fails stops the others, so that a failure
 * never leaves ranks waiting on a dead peer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface LaunchOptions {
  /** Worker processes on this machine. */
  nproc: number;
  /** Machines taking part (each runs a launcher); default 1. */
  nnodes?: number;
  /** This machine's index, 0 to nnodes - 1; its workers get ranks nodeRank * nproc + 0..nproc-1. Default 0. */
  nodeRank?: number;
  masterAddr: string;
  masterPort: number;
  /** The program every worker runs (the same for all, as with torchrun). */
  command: string;
  args: string[];
  /** Added to this process's environment for every worker. */
  env?: NodeJS.ProcessEnv;
  /** Where prefixed output lines go. Default: this process's stdout and stderr. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How long stopped workers get between SIGTERM and SIGKILL. Default 5000 ms. */
  killGraceMs?: number;
}

export interface LaunchResult {
  /** 0 when every worker succeeded, else the first failing worker's exit code (1 for a signal). */
  exitCode: number;
  /** The rank that failed first, when one did. */
  failedRank?: number;
  /** Every worker's exit code, or the signal that ended it. */
  exits: (number | NodeJS.Signals)[];
}

/** A TCP port that was free a moment ago on `host` (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function prefixLines(child: ChildProcess, prefix: string, onLine: NonNullable<LaunchOptions['onLine']>): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (!source) continue;
    // \r-separated progress updates count as lines too, so that each arrives prefixed.
    createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => {
      for (const part of line.split('\r')) if (part.length > 0) onLine(prefix + part, stream);
    });
  }
}

/** Runs the workers to the end; resolves with their outcome (it never rejects for a worker's failure). */
export function launchRanks(options: LaunchOptions): Promise<LaunchResult> {
  const nnodes = options.nnodes ?? 1;
  const nodeRank = options.nodeRank ?? 0;
  const worldSize = options.nproc * nnodes;
  const grace = options.killGraceMs ?? 5000;
  const onLine = options.onLine ?? ((line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`));
  const children: ChildProcess[] = [];
  const exits: (number | NodeJS.Signals)[] = new Array(options.nproc);
  let failed: { rank: number; code: number } | undefined;
  let killTimer: NodeJS.Timeout | undefined;

  const stopOthers = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    killTimer ??= setTimeout(() => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, grace);
    killTimer.unref();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    onLine(`torchfit: ${signal}: stopping the ${options.nproc} workers`, 'stderr');
    failed ??= { rank: -1, code: 130 };
    stopOthers();
  };

  return new Promise((resolve) => {
    let running = options.nproc;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    for (let local = 0; local < options.nproc; local++) {
      const rank = nodeRank * options.nproc + local;
      const child = spawn(options.command, options.args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env, ...options.env,
          RANK: String(rank), LOCAL_RANK: String(local), WORLD_SIZE: String(worldSize), LOCAL_WORLD_SIZE: String(options.nproc),
          MASTER_ADDR: options.masterAddr, MASTER_PORT: String(options.masterPort),
        },
      });
      children.push(child);
      prefixLines(child, `[rank ${rank}] `, onLine);
      child.on('error', (error) => onLine(`torchfit: could not start rank ${rank}: ${error.message}`, 'stderr'));
      child.on('close', (code, signal) => {
        exits[local] = code ?? signal ?? 1;
        if ((code !== 0 || signal !== null) && failed === undefined) {
          failed = { rank, code: code !== null && code > 0 ? code : 1 };
          onLine(`torchfit: rank ${rank} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: stopping the other ranks`, 'stderr');
          stopOthers();
        }
        if (--running === 0) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          if (killTimer) clearTimeout(killTimer);
          resolve({ exitCode: failed?.code ?? 0, ...(failed && failed.rank >= 0 ? { failedRank: failed.rank } : {}), exits });
        }
      });
    }
  });
}
