#!/usr/bin/env node
// Builds the native addon with cmake-js into build/ and prints which libtorch it used.
// Works from a clone and from node_modules/torchfit (the CLI's `build` command runs it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));

// The package's install script passes --if-missing: a built addon is left alone.
if (process.argv.includes('--if-missing') && existsSync(join(root, 'build', 'Release', 'torchfit.node'))) process.exit(0);

let cmakeJs;
try {
  cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
} catch {
  console.error('torchfit: cmake-js is not installed. Run `npm install` in ' + root + ' first.');
  process.exit(1);
}

const args = [cmakeJs, 'build', '--directory', root, '--out', join(root, 'build'),
  '--parallel', String(Math.max(1, availableParallelism())), '--config', 'Release'];
if (process.argv.includes('--verbose')) args.push('--log-level', 'verbose');
const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (result.status !== 0) {
  console.error('\ntorchfit: the native build failed. It needs cmake, g++ and libtorch (Debian: apt-get install cmake g++ libtorch-dev),\n' +
    'or a libtorch named by LIBTORCH=/path/to/libtorch or Torch_DIR=/path/to/share/cmake/Torch.');
  process.exit(result.status ?? 1);
}

const buildInfo = join(root, 'build', 'torchfit-build.json');
if (existsSync(buildInfo)) {
  const info = JSON.parse(readFileSync(buildInfo, 'utf8'));
  const yes = (v) => (v ? 'yes' : 'no');
  console.log(`torchfit: built against libtorch ${info.libtorchVersion} from ${info.source} (${info.torchDir}), CUDA ${yes(info.cuda)}, ` +
    `distributed: Gloo ${yes(info.distributed?.gloo)}, NCCL ${yes(info.distributed?.nccl)}, ` +
    `convolution engine: ${info.convEngine ?? 'off (install libdnnl-dev and rebuild)'}`);
  if (!info.distributed?.gloo) {
    console.log('torchfit: distributed training needs Gloo\'s headers: install them (Debian: apt-get install libgloo-dev) and rebuild');
  }
}
