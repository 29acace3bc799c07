import test from 'ava';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { root } from './support/data.js';

function load(addon) {
  const script = `import('${join(root, 'dist', 'index.js')}').then((m) => { try { m.info(); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); } })`;
  const result = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TORCHFIT_ADDON: addon }, encoding: 'utf8' });
  return result.stdout.trim();
}

test('a missing addon fails with the command to run', (t) => {
  const out = JSON.parse(load('/nonexistent/torchfit.node'));
  t.is(out.name, 'AddonLoadError');
  t.is(out.code, 'ERR_ADDON_LOAD');
  t.regex(out.message, /not built \(looked for \/nonexistent\/torchfit\.node, named by TORCHFIT_ADDON\)/);
  t.regex(out.message, /npx torchfit build/);
  t.regex(out.message, /npm run setup/);
});

test('an addon that cannot load (another libtorch, corrupt file) fails with the rebuild command', (t) => {
  const bogus = join(mkdtempSync(join(tmpdir(), 'torchfit-addon-')), 'torchfit.node');
  writeFileSync(bogus, 'not an ELF file');
  const out = JSON.parse(load(bogus));
  t.is(out.code, 'ERR_ADDON_LOAD');
  t.regex(out.message, /failed to load/);
  t.regex(out.message, /npx torchfit build/);
});

test('the built addon loads', (t) => {
  t.is(load(join(root, 'build', 'Release', 'torchfit.node')), 'loaded');
});
