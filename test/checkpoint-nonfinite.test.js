// Non-finite weights, buffers and optimizer slots: refused by default with the tensor named (our format
// and plain state_dicts), loaded as they are with { allowNonFinite: true }; the option itself is validated.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CheckpointError, InvalidOptionError, Model } from '../dist/index.js';
import { nonFiniteCases } from './support/checkpoint-attacks.js';

const dir = mkdtempSync(join(tmpdir(), 'torchfit-nonfinite-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

for (const [name, bytes, message] of nonFiniteCases()) {
  test.serial(`${name}: CheckpointError by default, loaded with allowNonFinite`, async (t) => {
    const path = join(dir, `${name}.pt`);
    writeFileSync(path, bytes);
    const error = await t.throwsAsync(Model.load(path), { instanceOf: CheckpointError });
    t.is(error.code, 'ERR_CHECKPOINT');
    t.is(error.file, path);
    t.regex(error.message, message);
    const model = await Model.load(path, { allowNonFinite: true });
    t.is(model.config.kind, 'cnn');
    t.is(model.handle.config().hasOptimizerState, !name.includes('plain'));
    // The non-finite value really is in the model: predictions of a NaN weight are NaN.
    if (name === 'nan-weight') {
      const probs = await model.predict({ dtype: 'float32', shape: [1, 28, 28], data: new Float32Array(784).fill(0.5) });
      t.true(Number.isNaN(probs.data[0]));
    }
    model.dispose();
  });
}

test('allowNonFinite and the other load options are validated before the file is read', async (t) => {
  const path = join(dir, 'does-not-exist.pt');
  const cases = [
    [{ allowNonFinite: 'yes' }, 'allowNonFinite', /expected a boolean, received "yes"/],
    [{ allowNonFinite: 1 }, 'allowNonFinite', /expected a boolean, received 1/],
    [{ device: 'tpu' }, 'device', /expected 'auto', 'cpu', 'cuda' or 'cuda:N', received "tpu"/],
    [{ imageSize: [28] }, 'imageSize', /\[height, width\] with integers from 1 to 4096/],
    [{ allownonfinite: true }, 'allownonfinite', /one of 'device', 'imageSize', 'allowNonFinite'/],
  ];
  for (const [options, option, message] of cases) {
    const error = await t.throwsAsync(Model.load(path, options), { instanceOf: InvalidOptionError });
    t.is(error.option, option);
    t.regex(error.message, message);
  }
  await t.throwsAsync(Model.load(path, null), { instanceOf: InvalidOptionError, message: /Invalid option options: expected an object/ });
});
