import test from 'ava';

import { info, InvalidOptionError, Model, Tensor, trainModel } from '../dist/index.js';
import { parseDevice, selectDevice } from '../dist/torch/device.js';
import { testIf } from './support/conditional.js';

const FORM = "Invalid option device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', received";
const cpuBuild = { cudaCompiled: false, cudaAvailable: false, deviceCount: 0 };
const noGpuVisible = { cudaCompiled: true, cudaAvailable: false, deviceCount: 0 };
const twoGpus = { cudaCompiled: true, cudaAvailable: true, deviceCount: 2 };

test('parseDevice accepts the four forms and refuses anything else with the same message', (t) => {
  for (const device of ['auto', 'cpu', 'cuda', 'cuda:0', 'cuda:7', 'cuda:123']) t.is(parseDevice(device), device);
  for (const [value, shown] of [['gpu', '"gpu"'], ['CPU', '"CPU"'], ['cuda:', '"cuda:"'], ['cuda:1234', '"cuda:1234"'], ['cuda:-1', '"cuda:-1"'], [' cpu', '" cpu"'], [0, '0'], [undefined, 'undefined']]) {
    const error = t.throws(() => parseDevice(value), { instanceOf: InvalidOptionError });
    t.is(error.option, 'device');
    t.is(error.message, `${FORM} ${shown}`);
  }
  t.is(t.throws(() => parseDevice('tpu', 'options.device')).option, 'options.device');
});

test('selectDevice resolves auto and cuda and refuses devices the runtime cannot reach', (t) => {
  t.is(selectDevice('auto', cpuBuild), 'cpu');
  t.is(selectDevice('cpu', twoGpus), 'cpu');
  t.is(selectDevice('auto', twoGpus), 'cuda:0');
  t.is(selectDevice('cuda', twoGpus), 'cuda:0');
  t.is(selectDevice('cuda:1', twoGpus), 'cuda:1');
  t.is(t.throws(() => selectDevice('cuda', cpuBuild), { instanceOf: InvalidOptionError }).message,
    "Invalid option device: expected 'cpu' or 'auto' (this libtorch was built without CUDA), received \"cuda:0\"");
  t.is(t.throws(() => selectDevice('cuda:1', noGpuVisible), { instanceOf: InvalidOptionError }).message,
    "Invalid option device: expected 'cpu' (no CUDA GPU is visible), received \"cuda:1\"");
  t.is(t.throws(() => selectDevice('cuda:2', twoGpus), { instanceOf: InvalidOptionError }).message,
    "Invalid option device: expected 'cpu', 'auto' or a CUDA device from 'cuda:0' to 'cuda:1' (2 visible), received \"cuda:2\"");
});

// The three entry points that take a device answer a wrong one identically.
const entryPoints = {
  'trainModel': (device) => trainModel({
    model: 'cnn', epochs: 1, batchSize: 4, device,
    train: { x: { dtype: 'float32', shape: [8, 28, 28], data: new Float32Array(8 * 784) }, y: Int32Array.from({ length: 8 }, (_, i) => i % 5) },
  }),
  // The device is checked before the file is read: this path does not exist.
  'Model.load': (device) => Model.load('/nonexistent/model.pt', { device }),
  'Tensor.from': async (device) => Tensor.from(new Float32Array(4), [4], { device }),
};

for (const [name, call] of Object.entries(entryPoints)) {
  test(`${name} refuses an unknown device name with InvalidOptionError`, async (t) => {
    const error = await t.throwsAsync(call('gpu'), { instanceOf: InvalidOptionError });
    t.is(error.code, 'ERR_INVALID_OPTION');
    t.is(error.option, 'device');
    t.is(error.message, `${FORM} "gpu"`);
  });

  const runtime = info();
  testIf(!runtime.cudaAvailable, 'a CUDA GPU is visible: there is no refusal to check')(`${name} refuses CUDA on this machine without a GPU with InvalidOptionError`, async (t) => {
    const error = await t.throwsAsync(call('cuda'), { instanceOf: InvalidOptionError });
    t.is(error.option, 'device');
    t.is(error.message, runtime.cudaCompiled
      ? "Invalid option device: expected 'cpu' (no CUDA GPU is visible), received \"cuda:0\""
      : "Invalid option device: expected 'cpu' or 'auto' (this libtorch was built without CUDA), received \"cuda:0\"");
  });
}

test('Tensor.from takes auto like the other entry points (the CPU here)', (t) => {
  const tensor = Tensor.from(new Float32Array(4), [4], { device: 'auto' });
  t.is(tensor.device, info().cudaAvailable ? 'cuda:0' : 'cpu');
  tensor.dispose();
});

test('deviceRuntime asks the runtime once per process and keeps only the device facts', async (t) => {
  const { deviceRuntime } = await import('../dist/torch/device.js?fresh-instance');
  let asked = 0;
  const ask = () => { asked++; return { ...twoGpus, libtorchVersion: '1.13.0' }; };
  t.deepEqual(deviceRuntime(ask), twoGpus);
  t.deepEqual(deviceRuntime(ask), twoGpus);
  t.is(asked, 1);
});
