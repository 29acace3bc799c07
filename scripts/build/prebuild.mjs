#!/usr/bin/env node
// `npm pack`'s prepack step: copies the compiled addon (build/Release/torchfit.node) into
// prebuilds/<platform>-<arch>/ with torchfit.json, the record of the libtorch it links, so an
// install on a system with that libtorch loads it without compiling (src/torch/prebuild.ts
// reads the record). Compiles first when there is no build; checks that the copy loads.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = join(root, 'build', 'Release', 'torchfit.node');
const tag = `${process.platform}-${process.arch}`;
const dir = join(root, 'prebuilds', tag);
const log = (message) => console.error(`prebuild: ${message}`);

function fail(message) {
  log(message);
  process.exit(1);
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error || result.status !== 0) return undefined;
  return result.stdout;
}

if (!existsSync(built)) {
  log('no compiled addon in build/Release: building it first');
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'build', 'build-native.mjs')], { stdio: 'inherit' });
  if (result.status !== 0) fail('the native build failed; nothing to pack');
}
const buildInfoFile = join(root, 'build', 'torchfit-build.json');
if (!existsSync(buildInfoFile)) fail(`${buildInfoFile} is missing: rebuild with \`node scripts/build/build-native.mjs\``);
const buildInfo = JSON.parse(readFileSync(buildInfoFile, 'utf8'));

// The shared libraries the addon links, and its C++ ABI, read from the binary itself.
const dynamic = run('readelf', ['-d', '-W', built]);
if (dynamic === undefined) fail('readelf (binutils) is needed to record the libraries the addon links');
const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
const symbols = run('readelf', ['--dyn-syms', '-W', built]) ?? '';
const cxx11Abi = symbols.includes('__cxx11') ? true : symbols === '' ? null : false;

// Which Debian packages provide them here (so the loader can print the apt-get line).
const BASE_PACKAGES = new Set(['libc6', 'libstdc++6', 'libgcc-s1']);
const debianPackages = new Set();
for (const name of needed) {
  const path = [buildInfo.libDir, '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu']
    .map((d) => join(d, name)).find((p) => existsSync(p));
  if (!path) continue;
  const owner = run('dpkg', ['-S', realpathSync(path)]) ?? run('dpkg', ['-S', path]);
  const pkg = owner?.split(':')[0]?.trim();
  if (pkg && !BASE_PACKAGES.has(pkg)) debianPackages.add(pkg);
}

const record = {
  platform: process.platform,
  arch: process.arch,
  napiVersion: 8,
  libtorchVersion: buildInfo.libtorchVersion,
  torchSource: buildInfo.source,
  libDir: buildInfo.libDir,
  cuda: buildInfo.cuda === true,
  cxx11Abi,
  needed,
  debianPackages: [...debianPackages].sort(),
  distributed: buildInfo.distributed,
  convEngine: buildInfo.convEngine ?? null,
};

mkdirSync(dir, { recursive: true });
copyFileSync(built, join(dir, 'torchfit.node'));
writeFileSync(join(dir, 'torchfit.json'), `${JSON.stringify(record, null, 2)}\n`);

// The copy must load on its own (the loader's prebuild path, TORCHFIT_ADDON unset) and report the recorded libtorch.
const probe = `const m = await import(${JSON.stringify(join(root, 'dist', 'index.js'))}); const i = m.info(); console.log(JSON.stringify({ v: i.libtorchVersion, addon: i.addon }));`;
const env = { ...process.env, TORCHFIT_ADDON: join(dir, 'torchfit.node') };
const check = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { env, encoding: 'utf8' });
if (check.status !== 0) fail(`the prebuilt addon does not load:\n${check.stderr}`);
const loaded = JSON.parse(check.stdout.trim().split('\n').pop());
const major = (v) => v.split('.').slice(0, 2).join('.');
if (major(loaded.v) !== major(record.libtorchVersion)) fail(`the addon runs on libtorch ${loaded.v} but was built against ${record.libtorchVersion}`);
log(`prebuilds/${tag}/torchfit.node: libtorch ${record.libtorchVersion} (${record.torchSource}), links ${needed.filter((n) => /^lib(torch|c10)/.test(n)).join(', ')}` +
  (record.debianPackages.length > 0 ? `; Debian packages: ${record.debianPackages.join(' ')}` : ''));
