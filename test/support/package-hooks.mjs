// Module resolution hooks for tests run in a child process (node --import ./test/support/package-hooks-register.mjs):
// TORCHFIT_HIDE_PACKAGES=a,b makes those packages "not installed" (ERR_MODULE_NOT_FOUND, as Node words it),
// TORCHFIT_PACKAGE_LOG=<file> appends every bare package name resolved, one per line.
import { appendFileSync } from 'node:fs';

const hidden = new Set((process.env.TORCHFIT_HIDE_PACKAGES ?? '').split(',').filter(Boolean));
const logFile = process.env.TORCHFIT_PACKAGE_LOG;

function packageOf(specifier) {
  if (/^(\.|\/|node:|file:|data:)/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

export async function resolve(specifier, context, next) {
  const name = packageOf(specifier);
  if (name !== undefined) {
    if (logFile) appendFileSync(logFile, `${name}\n`);
    if (hidden.has(name)) {
      const error = new Error(`Cannot find package '${name}' imported from ${context.parentURL}`);
      error.code = 'ERR_MODULE_NOT_FOUND';
      throw error;
    }
  }
  return next(specifier, context);
}
