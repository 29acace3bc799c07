// Colour images train as well as grey ones: each Fashion-MNIST image tinted by a colour drawn
// for that image (so colour says nothing of the label), (N, 28, 28, 3) channels_last.
import test from 'ava';

import { trainModel } from '../dist/index.js';
import { realImages } from './support/data.js';

/** (N, H, W) grey -> (N, H, W, 3): pixel * colour, colour uniform in [0.25, 1]^3 per image (LCG, seeded). */
function tint(x, seed) {
  const [n, h, w] = x.shape;
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 0.25 + 0.75 * (s / 2 ** 32);
  };
  const out = new Float32Array(n * h * w * 3);
  for (let i = 0; i < n; i++) {
    const colour = [next(), next(), next()];
    for (let p = 0; p < h * w; p++) {
      const v = x.data[i * h * w + p];
      for (let c = 0; c < 3; c++) out[(i * h * w + p) * 3 + c] = v * colour[c];
    }
  }
  return { dtype: 'float32', shape: [n, h, w, 3], data: out };
}

// A small relu CNN of the layers API, as a user would write it.
const reluCnn = {
  layers: [
    { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'batchNormalization' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'conv2d', filters: 64, kernelSize: 3, activation: 'relu' },
    { type: 'batchNormalization' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dropout', rate: 0.25 },
    { type: 'dense', units: 5, activation: 'softmax' },
  ],
};

test('a tinted colour copy of the dataset trains to within 2 points of the grey accuracy (relu CNN of the layers API, 2 epochs)', async (t) => {
  t.timeout(600_000);
  const train = await realImages(12_000);
  const heldOut = await realImages(3_000, 50_000);
  const options = { model: reluCnn, epochs: 2, batchSize: 32, seed: 0 };
  const grey = await trainModel({ ...options, train });
  const greyAccuracy = (await grey.model.evaluate(heldOut.x, heldOut.y)).accuracy;
  grey.model.dispose();
  const colour = await trainModel({ ...options, train: { x: tint(train.x, 1), y: train.y } });
  t.deepEqual(colour.model.config.channels, 3);
  t.is(colour.model.config.kind, 'layers');
  const colourAccuracy = (await colour.model.evaluate(tint(heldOut.x, 2), heldOut.y)).accuracy;
  colour.model.dispose();
  t.log(`held-out accuracy on 3,000 images: grey ${(greyAccuracy * 100).toFixed(2)} %, colour ${(colourAccuracy * 100).toFixed(2)} %` +
    ` (ms/step grey ${grey.history.msPerStep.map((v) => v.toFixed(1)).join(', ')}; colour ${colour.history.msPerStep.map((v) => v.toFixed(1)).join(', ')})`);
  t.true(greyAccuracy > 0.8, `the grey model learned (${greyAccuracy})`);
  t.true(colourAccuracy >= greyAccuracy - 0.02, `colour ${colourAccuracy} vs grey ${greyAccuracy}`);
});
