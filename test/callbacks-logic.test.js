// The epoch-end callbacks' decisions on scripted series (native/core/callbacks.cc through the
// internal _callbackTrace, no model), their options and defaults, and Python's number formats
// for checkpoint paths and the CSV log. Expected values follow Keras 2.15's code, worked by hand.
import test from 'ava';

import { csvLogger, earlyStopping, InvalidOptionError, modelCheckpoint, reduceLROnPlateau, trainModel } from '../dist/index.js';
import { resolveCallbacks } from '../dist/torch/callbacks.js';
import { float32Repr, pythonRepr } from '../dist/torch/csv-logger.js';
import { native } from '../dist/torch/native.js';

const resolved = (list, hasValidation = true) => resolveCallbacks(list, undefined, 'resnet', hasValidation);
/** The learning rate of each epoch and the stops and saves, for figures given per epoch. */
const trace = (list, figures, options = {}) =>
  native()._callbackTrace({ callbacks: resolved(list), learningRate: 0.1, ...options }, figures);
const valLoss = (values) => values.map((v) => ({ valLoss: v }));

test('reduceLROnPlateau: patience, minDelta, cooldown and minLr (Keras\'s order of checks)', (t) => {
  // best 1.0, 0.9; 0.895 and 0.89 are within minDelta 0.01 of 0.9: the 2nd waits out patience 2
  // and the rate halves for epoch 5; epoch 5 is the cooldown (no wait); 0.8 improves; 0.85..0.88
  // wait 2 and halve again, floored at minLr 0.03; at minLr nothing changes any more.
  const rows = trace([reduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minDelta: 0.01, minLr: 0.03 })],
    valLoss([1.0, 0.9, 0.895, 0.89, 0.95, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9]));
  t.deepEqual(rows.map((r) => r.learningRate), [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03]);
  t.true(rows.every((r) => !r.stop && r.saved.length === 0));
});

test('reduceLROnPlateau: mode auto watches val_accuracy upwards', (t) => {
  const rows = trace([reduceLROnPlateau({ monitor: 'val_accuracy', patience: 1 })],
    [0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7].map((v) => ({ valAccuracy: v })), { learningRate: 0.01 });
  t.deepEqual(rows.map((r) => r.learningRate), [0.01, 0.01, 0.01, 0.001, 0.0001, 0.0001, 1e-05, 1.0000000000000002e-06]);
});

test('reduceLROnPlateau: patience 0 and minLr compared as float32, as Keras does', (t) => {
  // 0.0001 > float32(0.0001) = 9.9999997e-05: Keras still "reduces", to max(2e-5, 1e-4) = 1e-4.
  const rows = trace([reduceLROnPlateau({ monitor: 'loss', factor: 0.2, patience: 0, minLr: 0.0001 })],
    [1, 1, 1, 1, 1, 1].map((v) => ({ loss: v })), { learningRate: 0.01 });
  t.deepEqual(rows.map((r) => r.learningRate), [0.01, 0.01, 0.002, 0.0004, 0.0001, 0.0001]);
});

test('reduceLROnPlateau with lrSchedule: the schedule times the reductions so far', (t) => {
  const rows = trace([reduceLROnPlateau({ factor: 0.5, patience: 1 })], valLoss([1, 2, 0.5, 0.4, 0.3, 0.2]),
    { epochLearningRates: [0.1, 0.1, 0.05, 0.05, 0.02, 0.02] });
  t.deepEqual(rows.map((r) => r.learningRate), [0.1, 0.1, 0.025, 0.025, 0.01, 0.01]);
});

test('earlyStopping: baseline restarts the wait only when beaten; startFromEpoch skips the warm-up', (t) => {
  const es = (values, options) => native()._earlyStoppingTrace({ mode: 'min', minDelta: 0, ...options }, values);
  t.is(es([0.9, 0.95, 0.97], { patience: 2 }), 2);
  t.is(es([0.9, 0.95, 0.97], { patience: 2, baseline: 0.5 }), 1, 'the first epoch did not beat the baseline: its wait counts');
  t.is(es([0.9, 0.5, 0.6, 0.7, 0.8, 0.9], { patience: 2, baseline: 0.55 }), 3);
  // Keras checks patience only on epochs without improvement: steady improvement never stops.
  t.is(es([0.9, 0.85, 0.8, 0.75, 0.7, 0.6], { patience: 3, baseline: 0.65 }), -1);
  t.is(es([1, 2, 3, 4, 5, 6], { patience: 1 }), 1);
  t.is(es([1, 2, 3, 4, 5, 6], { patience: 1, startFromEpoch: 3 }), 4);
  // The same through the callbacks list, epochs counted from initialEpoch.
  const rows = trace([earlyStopping({ monitor: 'loss', patience: 1, startFromEpoch: 3 })], [1, 2, 3, 4].map((v) => ({ loss: v })), { initialEpoch: 2 });
  t.deepEqual(rows.map((r) => [r.epoch, r.stop]), [[3, false], [4, false], [5, true]]);
});

test('callbacks run in the order given: a checkpoint listed before earlyStopping still saves the stopping epoch', (t) => {
  const figures = valLoss([1, 0.5, 0.4, 0.7]);
  const save = modelCheckpoint({ path: '/tmp/m-{epoch}.pt' });
  const stop = earlyStopping({ patience: 0 });
  t.deepEqual(trace([save, stop], figures).map((r) => [r.stop, r.saved]),
    [[false, ['/tmp/m-1.pt']], [false, ['/tmp/m-2.pt']], [false, ['/tmp/m-3.pt']], [true, ['/tmp/m-4.pt']]]);
  t.deepEqual(trace([stop, save], figures).at(-1), { epoch: 4, learningRate: 0.1, stop: true, saved: ['/tmp/m-4.pt'] });
});

test('modelCheckpoint saveBestOnly: strictly better only, NaN never, mode and initialValueThreshold', (t) => {
  const saved = (options, figures) => trace([modelCheckpoint({ path: '/tmp/b{epoch}', saveBestOnly: true, ...options })], figures)
    .flatMap((r) => r.saved);
  t.deepEqual(saved({}, valLoss([1, 0.8, 0.8, NaN, 0.9, 0.7])), ['/tmp/b1', '/tmp/b2', '/tmp/b6']);
  t.deepEqual(saved({ monitor: 'val_accuracy' }, [0.5, 0.4, 0.6].map((v) => ({ valAccuracy: v }))), ['/tmp/b1', '/tmp/b3']);
  t.deepEqual(saved({ monitor: 'loss', mode: 'max' }, [1, 2, 1.5].map((v) => ({ loss: v }))), ['/tmp/b1', '/tmp/b2']);
  t.deepEqual(saved({ initialValueThreshold: 0.75 }, valLoss([1, 0.8, 0.7])), ['/tmp/b3']);
});

test('checkpoint paths are formatted as Python\'s str.format (Keras passes epoch + 1 and the logs)', (t) => {
  const path = '/tmp/m-{epoch:02d}-{val_loss:.4f}-{loss}-{accuracy:08.3f}-{epoch:5}-{val_accuracy:e}-{loss:.3g}-{lr}-{epoch:.1f}-{{x}}.pt';
  const [row] = trace([modelCheckpoint({ path })], [{ valLoss: 0.123456, loss: 1 / 3, accuracy: -0.5, valAccuracy: 0.875 }],
    { initialEpoch: 2, learningRate: 0.001 });
  // Python 3: '...'.format(epoch=3, val_loss=0.123456, loss=1/3, accuracy=-0.5, val_accuracy=0.875, lr=np.float32(0.001))
  t.deepEqual(row.saved, ['/tmp/m-03-0.1235-0.3333333333333333--000.500-    3-8.750000e-01-0.333-0.0010000000474974513-3.0-{x}.pt']);
});

test('Python\'s float repr, in C++ (paths) and TypeScript (CSV), and numpy\'s float32 str', (t) => {
  // [value, repr(value), str(np.float32(value))] from Python 3.11 and numpy.
  const cases = [
    [0.5, '0.5', '0.5'], [1, '1.0', '1.0'], [1e-5, '1e-05', '1e-05'], [0.0001, '0.0001', '1e-04'],
    [123456789012345678, '1.2345678901234568e+17', '1.2345679e+17'], [1e16, '1e+16', '1e+16'],
    [1e15, '1000000000000000.0', '1e+15'], [0.1 + 0.2, '0.30000000000000004', '0.3'], [-2.5e-7, '-2.5e-07', '-2.5e-07'],
    [0.6885416507720947, '0.6885416507720947', '0.68854165'], [NaN, 'nan', 'nan'], [Infinity, 'inf', 'inf'],
    [0, '0.0', '0.0'], [-0, '-0.0', '-0.0'], [100, '100.0', '100.0'], [5e-324, '5e-324', '0.0'],
    [1e6, '1000000.0', '1e+06'], [123456, '123456.0', '123456.0'], [1234567, '1234567.0', '1.234567e+06'], [0.00011, '0.00011', '0.00011'],
  ];
  for (const [value, repr, f32] of cases) {
    t.is(native()._pythonRepr(value), repr, `C++ repr(${value})`);
    t.is(pythonRepr(value), repr, `TS repr(${value})`);
    t.is(float32Repr(value), f32, `float32 str(${value})`);
  }
});

test('factories carry Keras\'s defaults, filled once when trainModel resolves them', (t) => {
  const [es, lr, mc, csv] = resolved([earlyStopping(), reduceLROnPlateau(), modelCheckpoint({ path: 'ck.pt' }), csvLogger({ path: 'log.csv' })]);
  t.deepEqual(es, { type: 'earlyStopping', monitor: 'val_loss', mode: 'min', patience: 0, minDelta: 0, restoreBestWeights: false, baseline: null, startFromEpoch: 0 });
  t.deepEqual(lr, { type: 'reduceLROnPlateau', monitor: 'val_loss', mode: 'min', factor: 0.1, patience: 10, minDelta: 1e-4, cooldown: 0, minLr: 0 });
  t.is(mc.mode, 'min');
  t.is(mc.saveBestOnly, false);
  t.is(mc.saveWeightsOnly, false);
  t.is(mc.initialValueThreshold, null);
  t.true(mc.path.endsWith('/ck.pt') && mc.path.startsWith('/'), 'made absolute');
  t.deepEqual({ ...csv, path: undefined }, { type: 'csvLogger', path: undefined, separator: ',', append: false, lrColumn: true });
  t.is(resolved([reduceLROnPlateau({ monitor: 'accuracy' })])[0].mode, 'max', "'auto' reads accuracy as 'max'");
  t.is(resolved([csvLogger({ path: 'a.csv' }), reduceLROnPlateau()])[0].lrColumn, false, 'lr column only after a plateau callback, as in Keras');
  // The earlyStopping option keeps the notebook's patience 10 and runs after the list.
  const withOption = resolveCallbacks([reduceLROnPlateau({ monitor: 'loss' })], { monitor: 'loss' }, 'resnet', false);
  t.deepEqual(withOption.map((c) => c.type), ['reduceLROnPlateau', 'earlyStopping']);
  t.is(withOption[1].patience, 10);
  t.deepEqual(resolveCallbacks(undefined, undefined, 'cnn', true).map((c) => c.type), ['earlyStopping'], "the CNN's default");
  t.deepEqual(resolveCallbacks([earlyStopping({ patience: 3 })], undefined, 'cnn', true).map((c) => c.patience), [3], 'no second one');
});

test('bad callbacks and control options are refused with the entry named', async (t) => {
  const train = { x: { dtype: 'float32', shape: [4, 28, 28], data: new Float32Array(4 * 784) }, y: Int32Array.from([0, 1, 0, 1]) };
  const validation = train;
  const cases = [
    [{ callbacks: [earlyStopping(), reduceLROnPlateau({ factor: 1.5 })], validation }, 'callbacks[1].factor', 'Invalid option callbacks[1].factor: expected a number in (0, 1), received 1.5'],
    [{ callbacks: [reduceLROnPlateau({ factr: 0.5 })], validation }, 'callbacks[0].factr', "Invalid option callbacks[0].factr: expected one of reduceLROnPlateau's options (monitor, mode, factor, patience, minDelta, cooldown, minLr), received unknown option 'factr'"],
    [{ callbacks: [reduceLROnPlateau()] }, 'callbacks[0].monitor', 'Invalid option callbacks[0].monitor: expected \'loss\' or \'accuracy\' (there is no validation data), received "val_loss"'],
    [{ callbacks: [{ type: 'lambda' }] }, 'callbacks[0].type', "Invalid option callbacks[0].type: expected 'earlyStopping', 'modelCheckpoint', 'reduceLROnPlateau' or 'csvLogger' (use earlyStopping(), modelCheckpoint(), reduceLROnPlateau() or csvLogger()), received \"lambda\""],
    [{ callbacks: [csvLogger({ path: 'a.csv', separator: ';;' })] }, 'callbacks[0].separator', 'Invalid option callbacks[0].separator: expected one character other than a quote or a line break, received ";;"'],
    [{ callbacks: [earlyStopping({ monitor: 'loss', patience: -1 })] }, 'callbacks[0].patience', 'Invalid option callbacks[0].patience: expected an integer >= 0, received -1'],
    [{ callbacks: [earlyStopping({ monitor: 'loss', baseline: 'low' })] }, 'callbacks[0].baseline', 'Invalid option callbacks[0].baseline: expected a finite number or null, received "low"'],
    [{ callbacks: [modelCheckpoint({ path: '' })] }, 'callbacks[0].path', 'Invalid option callbacks[0].path: expected a file path, received ""'],
    [{ callbacks: [modelCheckpoint({ path: 'm-{epoch:.2d}.pt', monitor: 'loss' })] }, 'callbacks[0].path', "Invalid option callbacks[0].path: expected a path whose {fields} are epoch, loss, accuracy, val_loss, val_accuracy or lr, each with an optional format such as {epoch:02d} or {val_loss:.4f} ('d' for epoch only; f, e or g with an optional .precision for any field), received a field {epoch:.2d}"],
    [{ callbacks: [modelCheckpoint({ path: 'm-{step}.pt', monitor: 'loss' })] }, 'callbacks[0].path', 'Invalid option callbacks[0].path: expected a path whose {fields} are epoch, loss, accuracy, val_loss, val_accuracy or lr, each with an optional format such as {epoch:02d} or {val_loss:.4f}, received a field {step}'],
    [{ callbacks: [modelCheckpoint({ path: 'm-{val_loss}.pt', monitor: 'loss' })] }, 'callbacks[0].path', 'Invalid option callbacks[0].path: expected a path whose {fields} are epoch, loss, accuracy, val_loss, val_accuracy or lr, each with an optional format such as {epoch:02d} or {val_loss:.4f}, without val_ fields when there is no validation data, received a field {val_loss}'],
    [{ callbacks: [modelCheckpoint({ path: 'm-{epoch.pt', monitor: 'loss' })] }, 'callbacks[0].path', "Invalid option callbacks[0].path: expected a path whose {fields} are epoch, loss, accuracy, val_loss, val_accuracy or lr, each with an optional format such as {epoch:02d} or {val_loss:.4f} (a '{' is not closed; a literal one is written '{{'), received \"" + process.cwd() + '/m-{epoch.pt"'],
    [{ callbacks: earlyStopping() }, 'callbacks', 'Invalid option callbacks: expected an array of callbacks made by earlyStopping(), modelCheckpoint(), reduceLROnPlateau() or csvLogger(), received an object'],
    [{ callbacks: [earlyStopping()], earlyStopping: true, validation }, 'earlyStopping', 'Invalid option earlyStopping: expected to be left out when callbacks holds an earlyStopping() (one or the other), received true'],
    [{ epochs: 2, initialEpoch: 2 }, 'epochs', "Invalid option epochs: expected an integer > initialEpoch (2): with initialEpoch, epochs is the last epoch's number, as in Keras, received 2"],
    [{ initialEpoch: -1 }, 'initialEpoch', 'Invalid option initialEpoch: expected an integer >= 0, received -1'],
    [{ timeLimitMs: 0 }, 'timeLimitMs', 'Invalid option timeLimitMs: expected a positive number of milliseconds, received 0'],
  ];
  for (const [options, option, message] of cases) {
    const error = await t.throwsAsync(trainModel({ model: 'resnet', train, epochs: 1, ...options }), { instanceOf: InvalidOptionError });
    t.is(error.option, option);
    t.is(error.message, message);
  }
});
