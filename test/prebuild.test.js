// The prebuilt addon (prebuilds/<platform>-<arch>/): the record check (src/torch/prebuild.ts), the
// loader's order and messages in a package laid out as npm installs it (no build/, a prebuild),
// and the install script skipping the compiler when the prebuild matches.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { librarySearchPath, missingTorchLibraries, platformTag, prebuildMismatch, prebuildPaths, readPrebuildRecord } from '../dist/torch/prebuild.js';
import { file, needs } from './support/conditional.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'build', 'Release', 'torchfit.node');
const tag = platformTag();

function tempDir(t, prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const record = (libDir, needed, more = {}) => ({
  platform: process.platform, arch: process.arch, napiVersion: 8, libtorchVersion: '9.9.0', torchSource: 'test', libDir,
  cuda: false, cxx11Abi: true, needed, debianPackages: ['libtorch9.9'], ...more,
});

test('a prebuild matches when every libtorch library it links is found; other libraries are the dynamic loader\'s business', (t) => {
  const lib = tempDir(t, 'torchfit-lib-');
  for (const f of ['libtorch_cpu.so.9.9', 'libc10.so.9.9']) writeFileSync(join(lib, f), '');
  const r = record(lib, ['libtorch_cpu.so.9.9', 'libc10.so.9.9', 'libnot-torch.so.7', 'libc.so.6']);
  t.deepEqual(missingTorchLibraries(r, {}), []);
  t.is(prebuildMismatch(r, {}), undefined);
  t.is(librarySearchPath(r, { LD_LIBRARY_PATH: '/a:/b', LIBTORCH: '/opt/libtorch' }).slice(0, 4).join(' '), `${lib} /a /b /opt/libtorch/lib`);
});

test('a prebuild linked against another libtorch names both and says what to install', (t) => {
  const lib = tempDir(t, 'torchfit-lib-');
  writeFileSync(join(lib, 'libtorch_cpu.so.2.1'), '');
  const r = record(lib, ['libtorch_cpu.so.9.9', 'libc10.so.9.9', 'libgomp.so.1']);
  t.deepEqual(missingTorchLibraries(r, {}), ['libtorch_cpu.so.9.9', 'libc10.so.9.9']);
  t.is(prebuildMismatch(r, {}),
    `The prebuilt addon was built against libtorch 9.9.0 (test, libtorch_cpu.so.9.9, libc10.so.9.9), but this system has another libtorch ` +
    `(libtorch_cpu.so.2.1 in ${lib}): libtorch_cpu.so.9.9, libc10.so.9.9 not found. On Debian/Ubuntu, \`sudo apt-get install libtorch9.9\` provides it.`);
  t.is(prebuildMismatch({ ...r, platform: 'darwin', arch: 'arm64' }, {}, 'linux-x64'), 'The prebuilt addon is for darwin-arm64, this is linux-x64.');
});

test('readPrebuildRecord refuses a record without its fields', (t) => {
  const dir = tempDir(t, 'torchfit-record-');
  writeFileSync(join(dir, 'bad.json'), '{"libtorchVersion": 1}');
  writeFileSync(join(dir, 'broken.json'), '{');
  t.is(readPrebuildRecord(join(dir, 'bad.json')), undefined);
  t.is(readPrebuildRecord(join(dir, 'broken.json')), undefined);
  t.is(readPrebuildRecord(join(dir, 'absent.json')), undefined);
});

/** A package as npm installs it: dist/, package.json, scripts/, and (optionally) a prebuild with its record; no build/. */
function installedLayout(t, prebuildRecord) {
  const pkg = tempDir(t, 'torchfit-installed-');
  cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
  cpSync(join(root, 'scripts', 'build', 'build-native.mjs'), join(pkg, 'scripts', 'build', 'build-native.mjs'));
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  if (prebuildRecord) {
    const paths = prebuildPaths(pkg);
    mkdirSync(join(pkg, 'prebuilds', tag), { recursive: true });
    copyFileSync(built, paths.addon);
    writeFileSync(paths.record, JSON.stringify(prebuildRecord));
  }
  return pkg;
}

function loadIn(pkg) {
  const script = `const m = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});
    try { const i = m.info(); console.log(JSON.stringify({ addon: i.addon, version: i.libtorchVersion })); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
  const env = { ...process.env };
  delete env.TORCHFIT_ADDON;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

// These copy the addon of a source build into a package layout; a checkout that only has a prebuild has none.
const withBuild = needs(file(built, 'no source build of the addon: npm run build:native'));

withBuild('an installed package without build/ loads its prebuilt addon', (t) => {
  // An empty `needed` list: nothing for the check to miss, so the dynamic loader decides (and succeeds here).
  const pkg = installedLayout(t, record('/usr/lib/x86_64-linux-gnu', []));
  const out = loadIn(pkg);
  t.deepEqual(out.addon, { kind: 'prebuilt', path: join(pkg, 'prebuilds', tag, 'torchfit.node') });
  t.regex(out.version, /^\d+\.\d+\.\d+$/);
});

withBuild('a prebuild for another libtorch is refused before it is loaded, with what to install or run', (t) => {
  const pkg = installedLayout(t, record('/nonexistent', ['libtorch_cpu.so.9.9']));
  const out = loadIn(pkg);
  t.is(out.name, 'AddonLoadError');
  t.is(out.code, 'ERR_ADDON_LOAD');
  t.true(out.message.startsWith('The prebuilt addon was built against libtorch 9.9.0 (test, libtorch_cpu.so.9.9), but this system has '), out.message);
  t.true(out.message.includes('`sudo apt-get install libtorch9.9`'));
  t.true(out.message.includes('`npx torchfit build`'));
});

test('with neither a build nor a prebuild, the message names both places and the command', (t) => {
  const pkg = installedLayout(t, undefined);
  const out = loadIn(pkg);
  t.is(out.code, 'ERR_ADDON_LOAD');
  t.true(out.message.startsWith(`torchfit's native addon is not built (looked for ${join(pkg, 'build', 'Release', 'torchfit.node')}) ` +
    `and the package has no prebuilt addon for ${tag} (${join(pkg, 'prebuilds', tag, 'torchfit.node')}).`), out.message);
  t.true(out.message.includes('`npx torchfit build`'));
});

function installScript(pkg, env = {}) {
  const result = spawnSync(process.execPath, [join(pkg, 'scripts', 'build', 'build-native.mjs'), '--if-missing'], {
    cwd: pkg, encoding: 'utf8', env: { ...process.env, npm_lifecycle_event: '', npm_config_build_from_source: '', TORCHFIT_BUILD_FROM_SOURCE: '', ...env },
  });
  return { status: result.status, stderr: result.stderr };
}

withBuild('the install script skips the compiler when the prebuild matches', (t) => {
  const pkg = installedLayout(t, record('/usr/lib/x86_64-linux-gnu', []));
  const { status, stderr } = installScript(pkg);
  t.is(status, 0);
  t.is(stderr.trim(), `torchfit: using the prebuilt addon for ${tag} (libtorch 9.9.0); nothing to compile`);
  t.false(existsSync(join(pkg, 'build')), 'nothing compiled');
});

withBuild('the install script compiles (and says why) when the prebuild does not match', (t) => {
  // No cmake-js in this scratch package: the build stops at once, after saying why it was needed.
  const pkg = installedLayout(t, record('/nonexistent', ['libtorch_cpu.so.9.9']));
  const { status, stderr } = installScript(pkg);
  t.is(status, 1);
  t.regex(stderr, /^torchfit: The prebuilt addon was built against libtorch 9\.9\.0 .*not found\./m);
  t.regex(stderr, /^torchfit: compiling the addon against this system's libtorch instead$/m);
  t.regex(stderr, /^torchfit: cmake-js is not installed\./m);
});

withBuild('--build-from-source compiles even when the prebuild matches', (t) => {
  const pkg = installedLayout(t, record('/usr/lib/x86_64-linux-gnu', []));
  const { status, stderr } = installScript(pkg, { npm_config_build_from_source: 'true' });
  t.is(status, 1);
  t.notRegex(stderr, /using the prebuilt addon/);
  t.regex(stderr, /cmake-js is not installed/);
});
