// Tests that need something the machine may lack (a Python module, a system file, an allocator
// behaviour) are registered through these helpers. The precondition is checked once, when the file
// registers its tests; a test whose precondition is missing is registered with AVA's test.skip and
// the reason appended to its title, so the run reports it as skipped (and why) instead of passing.
//
//   const withTorch = needs(python('torch', 'numpy'));
//   withTorch('our checkpoint loads in PyTorch', async (t) => { ... });
//   withTorch.serial('...', async (t) => { ... });
//   testIf(freemem() > 8 * 2 ** 30, 'less than 8 GB free')('a large allocation', (t) => { ... });
//
// Something the repository itself provides (a committed fixture, the built addon, the data set that
// `npm run setup` builds) is not a precondition: its absence must fail the test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import test from 'ava';

import { PYTHON, pythonHas } from './python.js';

/**
 * A test registrar: `test` itself when `condition` holds, otherwise one that registers every test
 * as skipped with `[skipped: reason]` appended to its title. Has `.serial` like `test`.
 */
export function testIf(condition, reason) {
  if (condition) {
    const run = (title, implementation) => test(title, implementation);
    run.serial = (title, implementation) => test.serial(title, implementation);
    return run;
  }
  if (typeof reason !== 'string' || reason === '') throw new TypeError('testIf: a skipped test needs a reason');
  const label = (title) => `${title} [skipped: ${reason}]`;
  const skip = (title, implementation) => test.skip(label(title), implementation);
  skip.serial = (title, implementation) => test.serial.skip(label(title), implementation);
  return skip;
}

/**
 * A registrar for tests that need every precondition given ({ ok, reason } objects, from the
 * constructors below or written inline); the reasons of the missing ones go into the titles.
 */
export function needs(...preconditions) {
  const missing = preconditions.filter((p) => !p.ok).map((p) => p.reason);
  return testIf(missing.length === 0, missing.join('; '));
}

/** PYTHON (/usr/bin/python3 unless TORCHFIT_PYTHON says otherwise) can import every module named. */
export function python(...modules) {
  return { ok: pythonHas(...modules), reason: `${PYTHON} cannot import ${modules.join(', ')}` };
}

/** A file outside the repository exists (a Debian package's data, a system file). */
export function file(path, hint) {
  return { ok: existsSync(path), reason: `${path} is missing${hint ? ` (${hint})` : ''}` };
}

/** A command runs: `args` are what to run it with to check (e.g. ['--version']). */
export function command(name, args = ['--version']) {
  const r = spawnSync(name, args, { stdio: 'ignore' });
  return { ok: r.error === undefined && r.status === 0, reason: `${name} is not available` };
}
