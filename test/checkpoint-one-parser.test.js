// One parser: no loaded file reaches libtorch's own zip reader or unpickler. The native sources do not
// call them, and the addon does not even import them (checked with nm on the built binary).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { command, file, needs } from './support/conditional.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const READERS = /pickle_load|PyTorchStreamReader|torch::load\b|jit::load\b|Unpickler|caffe2::serialize/;

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(cc|h)$/.test(name) ? [path] : [];
  });
}

test('no native source calls libtorch\'s checkpoint readers', (t) => {
  const files = sources(join(ROOT, 'native'));
  t.true(files.length > 20);
  const offenders = files.filter((f) => READERS.test(readFileSync(f, 'utf8').replace(/\/\/.*$/gm, '')));
  t.deepEqual(offenders, []);
});

const addon = process.env.TORCHFIT_ADDON ?? join(ROOT, 'build', 'Release', 'torchfit.node');
needs(file(addon, 'no addon built there; TORCHFIT_ADDON names another'), command('nm'))('the built addon imports none of libtorch\'s readers (nm -D)', (t) => {
  const r = spawnSync('nm', ['-D', '-C', '--undefined-only', addon], { encoding: 'utf8', maxBuffer: 64 << 20 });
  t.is(r.status, 0, r.stderr);
  const imported = r.stdout.split('\n').filter((l) => READERS.test(l));
  t.deepEqual(imported, []);
  t.true(r.stdout.includes('torch::pickle_save'), 'writing still goes through torch::pickle_save (torch.save-compatible files)');
});
