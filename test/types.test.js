// Type tests of the published declarations (test/types/*.ts against dist/index.d.ts through
// package.json's "exports"): correct usage compiles, each `@ts-expect-error` line must fail.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function compile(project) {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { cwd: root, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

test('test/types: the public declarations accept correct usage and refuse the wrong one', (t) => {
  const { status, output } = compile(join(root, 'test', 'types', 'tsconfig.json'));
  t.is(output, '');
  t.is(status, 0);
});

// The harness itself: a wrong option without its directive, and a directive on correct code, both fail.
test('the type check fails on a wrong option and on an expect-error that is not needed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torchfit-types-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'wrong.ts'), [
    "import { trainModel, describeModel, type NdArray } from 'torchfit';",
    'declare const x: NdArray;',
    "void trainModel({ model: 'cnn', train: { x, y: [0] }, device: 'gpu' });",
    '// @ts-expect-error',
    "describeModel('cnn');",
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false,
      types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], paths: { torchfit: [join(root, 'dist', 'index.d.ts')] },
    },
    files: ['wrong.ts'],
  }));
  const { status, output } = compile(join(dir, 'tsconfig.json'));
  t.not(status, 0);
  t.regex(output, /wrong\.ts\(3,\d+\): error TS2322: Type '"gpu"' is not assignable to type 'Device \| undefined'/);
  t.regex(output, /wrong\.ts\(4,1\): error TS2578: Unused '@ts-expect-error' directive/);
});
