/**
 * The prebuilt addon shipped in the npm package: prebuilds/<platform>-<arch>/torchfit.node and,
 * next to it, torchfit.json saying which libtorch (and which shared libraries) it was linked
 * against. The loader and the install script (scripts/build/build-native.mjs --if-missing) both ask
 * this file whether the prebuild can load here, so neither compiles nor loads blindly.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What scripts/build/prebuild.mjs records next to the prebuilt addon (torchfit.json). */
export interface PrebuildRecord {
  platform: string;
  arch: string;
  napiVersion: number;
  /** libtorch's version as its CMake package reports it, e.g. '1.13.0'. */
  libtorchVersion: string;
  /** Where the build found libtorch, e.g. 'system (Debian libtorch-dev)'. */
  torchSource: string;
  /** The folder the addon's RPATH names (libtorch's libraries on the build machine). */
  libDir: string;
  cuda: boolean;
  /** libstdc++'s ABI the addon and libtorch share (-D_GLIBCXX_USE_CXX11_ABI). */
  cxx11Abi: boolean | null;
  /** The shared libraries the addon links (ELF DT_NEEDED), e.g. 'libtorch_cpu.so.1.13'. */
  needed: string[];
  /** Debian packages providing them on the build machine ('libtorch1.13', ...), when it was Debian. */
  debianPackages: string[];
}

/** The platform folder name of node-gyp-build / prebuildify: 'linux-x64'. */
export function platformTag(platform: string = process.platform, arch: string = process.arch): string {
  return `${platform}-${arch}`;
}

/** Where the prebuilt addon for this platform lies in the package (whether or not it is there). */
export function prebuildPaths(root: string, tag = platformTag()): { addon: string; record: string } {
  const dir = join(root, 'prebuilds', tag);
  return { addon: join(dir, 'torchfit.node'), record: join(dir, 'torchfit.json') };
}

/** Reads a prebuild's record; undefined when it is absent or unreadable. */
export function readPrebuildRecord(file: string): PrebuildRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as PrebuildRecord;
    return typeof record.libtorchVersion === 'string' && Array.isArray(record.needed) ? record : undefined;
  } catch {
    return undefined;
  }
}

// libtorch's own libraries: these decide whether "the system's libtorch" is the one we linked.
const TORCH_LIBRARY = /^lib(torch|torch_cpu|torch_cuda|c10|c10_cuda)\.so(\.|$)/;

/** Folders the dynamic loader searches that we can list: the RPATH, LD_LIBRARY_PATH, the usual system folders. */
export function librarySearchPath(record: Pick<PrebuildRecord, 'libDir'>, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [
    record.libDir,
    ...(env.LD_LIBRARY_PATH ?? '').split(':'),
    ...(env.LIBTORCH ? [join(env.LIBTORCH, 'lib')] : []),
    '/lib', '/usr/lib', '/usr/local/lib', '/lib64', '/usr/lib64',
    '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu',
  ];
  return [...new Set(dirs.filter((d) => d !== ''))];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The libtorch libraries the prebuild needs that none of the search folders holds. */
export function missingTorchLibraries(record: PrebuildRecord, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = librarySearchPath(record, env);
  return record.needed.filter((name) => TORCH_LIBRARY.test(name) && !dirs.some((dir) => existsSync(join(dir, name))));
}

/** The libtorch this system has, as its library file names say ('libtorch_cpu.so.2.1 in /usr/lib'), or undefined. */
export function systemLibtorch(record: PrebuildRecord, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of librarySearchPath(record, env)) {
    const found = listDir(dir).filter((f) => /^libtorch_cpu\.so(\.\d+)*$/.test(f)).sort((a, b) => b.length - a.length)[0];
    if (found) return `${found} in ${dir}`;
  }
  return undefined;
}

/**
 * Why the prebuilt addon cannot load on this system (a sentence naming what it was built
 * against, what is here, and what to install or run), or undefined when its platform matches
 * and every libtorch library it links is present.
 */
export function prebuildMismatch(record: PrebuildRecord, env: NodeJS.ProcessEnv = process.env, tag = platformTag()): string | undefined {
  const built = `built against libtorch ${record.libtorchVersion} (${record.torchSource}, ${record.needed.filter((n) => TORCH_LIBRARY.test(n)).join(', ')})`;
  if (platformTag(record.platform, record.arch) !== tag) return `The prebuilt addon is for ${platformTag(record.platform, record.arch)}, this is ${tag}.`;
  const missing = missingTorchLibraries(record, env);
  if (missing.length === 0) return undefined;
  const found = systemLibtorch(record, env);
  const here = found ? `this system has another libtorch (${found})` : 'this system has no libtorch';
  const apt = record.debianPackages.length > 0 ? ` On Debian/Ubuntu, \`sudo apt-get install ${record.debianPackages.join(' ')}\` provides it.` : '';
  return `The prebuilt addon was ${built}, but ${here}: ${missing.join(', ')} not found.${apt}`;
}
