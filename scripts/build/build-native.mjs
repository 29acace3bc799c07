#!/usr/bin/env node
// Builds the native addon with cmake-js into build/ and prints which libtorch it used.
// Works from a clone and from node_modules/torchfit (the CLI's `build` command runs it).
//
// --if-missing (the package's install script): nothing to do when build/Release/torchfit.node
// exists, or when the package's prebuilt addon (prebuilds/<platform>-<arch>/) matches this
// system's libtorch; `npm install --build-from-source` or TORCHFIT_BUILD_FROM_SOURCE=1 compiles anyway.
// npm hides an install script's output, so progress goes to the terminal (/dev/tty) when
// there is one, and to stderr otherwise; the full compiler output is kept in build/build.log.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));
const ifMissing = process.argv.includes('--if-missing');
const verbose = process.argv.includes('--verbose');

// ---- where progress goes: the terminal npm leaves us, else stderr ----
let ttyFd;
try {
  // Only npm's install step hides our output; run any other way, stderr reaches the user.
  if (process.env.npm_lifecycle_event === 'install' && process.platform !== 'win32') ttyFd = openSync('/dev/tty', 'w');
} catch {
  ttyFd = undefined;  // no controlling terminal (CI, a pipe): stderr it is
}
const say = (line) => {
  if (ttyFd !== undefined) writeSync(ttyFd, `${line}\n`);
  else process.stderr.write(`${line}\n`);
};
const done = (code) => {
  if (ttyFd !== undefined) closeSync(ttyFd);
  process.exit(code);
};

// ---- --if-missing: a build or a matching prebuild means nothing to compile ----
async function prebuildVerdict() {
  const module = join(root, 'dist', 'torch', 'prebuild.js');
  if (!existsSync(module)) return { usable: false, why: undefined };  // a clone before its first TypeScript build: no prebuild either
  const { prebuildPaths, readPrebuildRecord, prebuildMismatch } = await import(pathToFileURL(module).href);
  const paths = prebuildPaths(root);
  if (!existsSync(paths.addon)) return { usable: false, why: undefined };
  const record = readPrebuildRecord(paths.record);
  if (!record) return { usable: false, why: `the prebuilt addon's record ${paths.record} is missing or unreadable` };
  const mismatch = prebuildMismatch(record);
  return mismatch ? { usable: false, why: mismatch } : { usable: true, record };
}

if (ifMissing) {
  const forced = process.env.npm_config_build_from_source === 'true' || process.env.TORCHFIT_BUILD_FROM_SOURCE === '1';
  if (!forced && existsSync(join(root, 'build', 'Release', 'torchfit.node'))) done(0);
  if (!forced) {
    const verdict = await prebuildVerdict();
    if (verdict.usable) {
      say(`torchfit: using the prebuilt addon for ${process.platform}-${process.arch} (libtorch ${verdict.record.libtorchVersion}); nothing to compile`);
      done(0);
    }
    if (verdict.why) say(`torchfit: ${verdict.why}\ntorchfit: compiling the addon against this system's libtorch instead`);
  }
}

// ---- the source build ----
let cmakeJs;
try {
  cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
} catch {
  say(`torchfit: cmake-js is not installed. Run \`npm install\` in ${root} first.`);
  done(1);
}

mkdirSync(join(root, 'build'), { recursive: true });
const logFile = join(root, 'build', 'build.log');
const logStream = createWriteStream(logFile);
const started = Date.now();
const elapsed = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};
const jobs = Math.max(1, availableParallelism());
say(`torchfit: compiling the native addon against libtorch (${jobs} parallel job${jobs > 1 ? 's' : ''}; a few minutes the first time; log: ${logFile})`);

const args = [cmakeJs, 'build', '--directory', root, '--out', join(root, 'build'), '--parallel', String(jobs), '--config', 'Release'];
if (verbose) args.push('--log-level', 'verbose');
const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });

// Ninja prints "[12/54] Building CXX object ...", Make "[ 22%] Building ...": one progress line
// per step on a terminal is too much, so say every tenth of the way (and every line with --verbose).
let lastShown = -1;
let configured = false;
let pending = '';
function onLine(line) {
  if (verbose) say(line);
  if (!configured && /^-- torchfit: (libtorch from|libtorch version|convolution engine|distributed)/.test(line)) say(`torchfit: ${line.slice(13)}`);
  if (!/ (Building|Linking) /.test(line)) return;
  const ninja = /^\[(\d+)\/(\d+)\]/.exec(line);
  const make = /^\[\s*(\d+)%\]/.exec(line);
  const fraction = ninja ? Number(ninja[1]) / Number(ninja[2]) : make ? Number(make[1]) / 100 : undefined;
  if (fraction === undefined) return;
  configured = true;
  const tenth = Math.floor(fraction * 10);
  if (tenth > lastShown) {
    lastShown = tenth;
    const step = ninja ? `${ninja[1]}/${ninja[2]} steps` : `${make[1]} %`;
    say(`torchfit: compiling ${step} (${elapsed()})`);
  }
}
for (const stream of [child.stdout, child.stderr]) {
  stream.on('data', (chunk) => {
    logStream.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop();
    lines.forEach(onLine);
  });
}
const status = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
await new Promise((resolve) => logStream.end(resolve));

if (status !== 0) {
  // npm shows stderr when an install script fails: the end of the log, then what to do.
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
  process.stderr.write(`${tail}\n`);
  say(`\ntorchfit: the native build failed after ${elapsed()} (full log: ${logFile}). It needs cmake, g++ and libtorch (Debian: apt-get install cmake g++ libtorch-dev libgloo-dev libdnnl-dev),\n` +
    'or a libtorch named by LIBTORCH=/path/to/libtorch or Torch_DIR=/path/to/share/cmake/Torch.');
  done(status);
}

const buildInfo = join(root, 'build', 'torchfit-build.json');
if (existsSync(buildInfo)) {
  const info = JSON.parse(readFileSync(buildInfo, 'utf8'));
  const yes = (v) => (v ? 'yes' : 'no');
  say(`torchfit: built in ${elapsed()} against libtorch ${info.libtorchVersion} from ${info.source} (${info.torchDir}), CUDA ${yes(info.cuda)}, ` +
    `distributed: Gloo ${yes(info.distributed?.gloo)}, NCCL ${yes(info.distributed?.nccl)}, ` +
    `convolution engine: ${info.convEngine ?? 'off (install libdnnl-dev and rebuild)'}`);
  if (!info.distributed?.gloo) {
    say('torchfit: distributed training needs Gloo\'s headers: install them (Debian: apt-get install libgloo-dev) and rebuild');
  }
}
done(0);
