#!/usr/bin/env node
// `npm run setup`: makes a fresh clone ready, and takes seconds when nothing is missing.
// 1. Debian packages (apt as root or with sudo; otherwise prints the command),
// 2. npm ci when node_modules is missing or older than package-lock.json,
// 3. the native addon, 4. the TypeScript build, 5. the dataset files.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = Date.now();
const log = (message) => console.log(`setup: ${message}`);

// Required to build and test (libgloo-dev: Gloo's headers, which distributed training
// compiles against; libdnnl-dev: oneDNN's headers, for the convolution engine); the rest serve the Python reference, the browser test and fonts in figures.
const REQUIRED = ['g++', 'cmake', 'libtorch-dev', 'libgloo-dev', 'libdnnl-dev', 'dataset-fashion-mnist'];
const OPTIONAL = ['python3-torch', 'python3-sklearn', 'python3-numpy', 'chromium', 'fonts-liberation', 'fonts-dejavu-core'];

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) {
    console.error(`setup: \`${[command, ...args].join(' ')}\` failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

function missingDebianPackages(names) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...names], { encoding: 'utf8' });
  if (result.error) return null;  // not a Debian system
  const installed = new Set(
    result.stdout.split('\n').filter((line) => /\sii\s*$/.test(line)).map((line) => line.split(' ')[0]),
  );
  return names.filter((name) => !installed.has(name));
}

function installDebianPackages() {
  if (process.env.TORCHFIT_SKIP_APT === '1') return;
  const missing = missingDebianPackages([...REQUIRED, ...OPTIONAL]);
  if (missing === null) {
    log('not a Debian/Ubuntu system: install cmake, g++ and libtorch yourself (set LIBTORCH to its folder)');
    return;
  }
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasSudo = !isRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot && !hasSudo) {
    const required = missing.filter((name) => REQUIRED.includes(name));
    console.error(`setup: missing Debian packages: ${missing.join(' ')}\nsetup: run: sudo sh -c '${command}'`);
    if (required.length > 0) process.exit(1);
    return;
  }
  log(`installing ${missing.join(' ')}`);
  const sudo = isRoot ? [] : ['sudo', '-n'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(isRoot ? [] : ['apt-get']), 'update', '-q'], { env });
  run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(isRoot ? [] : ['apt-get']), 'install', '-y', '-q', '--no-install-recommends', ...missing], { env });
}

function hashOf(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function installNodeModules() {
  const stamp = join(root, 'node_modules', '.torchfit-lock-hash');
  const lockHash = hashOf(join(root, 'package-lock.json'));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash) return;
  log('npm ci');
  run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts']);
  writeFileSync(stamp, lockHash);
}

function newestMtime(paths) {
  let newest = 0;
  const visit = (path) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  paths.forEach(visit);
  return newest;
}

function outdated(output, sources) {
  return !existsSync(output) || statSync(output).mtimeMs < newestMtime(sources);
}

// Incremental builds leave unchanged outputs untouched, so a stamp written after a
// successful build (not the outputs' own times) says what is up to date.
function stamped(stamp, sources, output, build) {
  if (existsSync(output) && !outdated(stamp, sources)) return;
  build();
  writeFileSync(stamp, new Date().toISOString());
}

function buildNative() {
  const addon = join(root, 'build', 'Release', 'torchfit.node');
  stamped(join(root, 'build', '.setup-stamp'), [join(root, 'native'), join(root, 'CMakeLists.txt')], addon, () => {
    log('building the native addon (a few minutes the first time)');
    run(process.execPath, [join(root, 'scripts', 'build', 'build-native.mjs')]);
  });
}

function buildTypeScript() {
  stamped(join(root, 'dist', '.setup-stamp'), [join(root, 'src'), join(root, 'tsconfig.json')], join(root, 'dist', 'index.js'), () => {
    log('compiling TypeScript');
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')]);
  });
}

function buildDataset() {
  const files = ['fashion_mnist_dataset_train.npy', 'fashion_mnist_dataset_test.npy'].map((f) => join(root, 'data', f));
  if (files.every((f) => existsSync(f))) return;
  log('building the 5-class Fashion-MNIST dataset files in data/');
  run(process.execPath, [join(root, 'dist', 'cli.js'), 'dataset']);
}

installDebianPackages();
installNodeModules();
buildNative();
buildTypeScript();
buildDataset();
log(`ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
