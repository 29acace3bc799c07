// Figures: every renderer on fixed inputs, checked as PNG (signature, IHDR size,
// pixels) and as SVG (well-formed, expected labels); plus the Keras summary text.
import test from 'ava';
import { PNG } from 'pngjs';
import {
  renderImageGrid,
  renderTrainingCurves,
  renderConfusionMatrix,
  renderModelDiagram,
  modelDiagramDot,
  formatSummary,
  formatShape,
  svgToPng,
  fontStatus,
  confusionMatrix,
} from '../dist/report/index.js';
import { InvalidOptionError } from '../dist/errors.js';
import { cnnSummary, resnetSummary, fakeHistory, fakePredictions, sampleImages, CLASS_NAMES } from './fixtures/report/fake-input.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which must come first. */
function ihdr(png) {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('IHDR is not the first chunk');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * A small well-formedness check: balanced tags, quoted attributes, no stray '&'.
 * (No XML parser is a dependency; this catches what an unescaped label would break.)
 */
function assertWellFormedSvg(t, svg, what) {
  t.true(svg.startsWith('<svg'), `${what}: starts with <svg`);
  t.true(svg.trimEnd().endsWith('</svg>'), `${what}: ends with </svg>`);
  const body = svg.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  t.notRegex(body, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/, `${what}: every & is an entity`);
  const stack = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  let m;
  let consumed = 0;
  while ((m = tag.exec(body))) {
    const between = body.slice(consumed, m.index);
    t.false(between.includes('<'), `${what}: malformed tag near ${JSON.stringify(between.slice(between.indexOf('<'), between.indexOf('<') + 60))}`);
    consumed = tag.lastIndex;
    if (m[1]) {
      const open = stack.pop();
      if (open !== m[2]) return t.fail(`${what}: </${m[2]}> closes <${open}>`);
    } else if (!m[4]) stack.push(m[2]);
  }
  t.deepEqual(stack, [], `${what}: all tags closed`);
}

/** PNG size = SVG size × scale, and the figure is neither tiny nor huge. */
function assertFigure(t, fig, what, scale = 2) {
  const size = ihdr(fig.png);
  t.true(Math.abs(size.width - fig.width * scale) <= 1, `${what}: PNG width ${size.width} for SVG width ${fig.width}`);
  t.true(Math.abs(size.height - fig.height * scale) <= 1, `${what}: PNG height ${size.height} for SVG height ${fig.height}`);
  t.true(fig.width >= 300 && fig.width <= 2000, `${what}: width ${fig.width}`);
  t.true(fig.height >= 200 && fig.height <= 6000, `${what}: height ${fig.height}`);
  assertWellFormedSvg(t, fig.svg, what);
  t.log(`${what}: ${fig.width}×${fig.height} SVG (${fig.svg.length} chars), PNG ${size.width}×${size.height} (${fig.png.length} bytes)`);
}

/** Fraction of pixels darker than mid-grey: a drawing with text and lines has some. */
function darkShare(png) {
  const img = PNG.sync.read(png);
  let dark = 0;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i] + img.data[i + 1] + img.data[i + 2] < 384) dark++;
  return dark / (img.width * img.height);
}

test('fonts for PNG text are installed', async (t) => {
  const fonts = fontStatus();
  t.false(fonts.missing, 'No Liberation Sans or DejaVu Sans font file found: run `npm run setup` (it installs fonts-liberation), or `sudo apt-get install fonts-liberation`');
  t.log(`PNG text font: ${fonts.family} (${fonts.files.length} files)`);
  // resvg drops text it has no font for: the same SVG with text must have more ink than without.
  const frame = (body) => `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">${body}</svg>`;
  const withText = darkShare(await svgToPng(frame('<text x="5" y="30" font-size="24" font-family="sans-serif">Accuracy</text>'), 1));
  const blank = darkShare(await svgToPng(frame(''), 1));
  t.is(blank, 0);
  t.true(withText > 0.02, `text drawn (${withText})`);
});

test('image grid: the notebook layout, column by column, 10 × 4', async (t) => {
  // Image k is a flat grey of level k/50, so its place in the PNG can be read back.
  const n = 40;
  const data = new Float32Array(n * 28 * 28);
  for (let k = 0; k < n; k++) data.fill(k / 50, k * 784, (k + 1) * 784);
  const fig = await renderImageGrid({ dtype: 'float32', shape: [n, 28, 28], data }, { title: '', pngScale: 1 });
  assertFigure(t, fig, 'grid (synthetic)', 1);
  const img = PNG.sync.read(fig.png);
  const grey = (x, y) => {
    const i = (y * img.width + x) * 4;
    const [r, g, b] = img.data.subarray(i, i + 3);
    return r === g && g === b && r < 250 ? r : -1;
  };
  // Runs of one grey level at least 50 px long along a line: the tiles it crosses.
  const runs = (points) => {
    const out = [];
    let start = 0;
    for (let i = 1; i <= points.length; i++) {
      if (i === points.length || points[i] !== points[start]) {
        if (points[start] >= 0 && i - start >= 50) out.push(points[start]);
        start = i;
      }
    }
    return out;
  };
  const level = (k) => Math.round((k / 50) * 255);
  let y0 = 0;
  while (y0 < img.height && grey(Math.floor(img.width / 20), y0) < 0) y0++;
  const across = runs(Array.from({ length: img.width }, (_, x) => grey(x, y0 + 30)));
  t.deepEqual(across, [0, 4, 8, 12, 16, 20, 24, 28, 32, 36].map(level), 'first row holds images 0, 4, 8, ...');
  let x0 = 0;
  while (x0 < img.width && grey(x0, y0 + 30) < 0) x0++;
  const down = runs(Array.from({ length: img.height }, (_, y) => grey(x0 + 30, y)));
  t.deepEqual(down, [0, 1, 2, 3].map(level), 'first column holds images 0, 1, 2, 3');
  t.is(runs(Array.from({ length: img.height }, (_, y) => grey(img.width - x0 - 30, y))).length, 4);
});

test('image grid: real images with labels and class names', async (t) => {
  const s = sampleImages();
  const fig = await renderImageGrid(s.images, { labels: s.labels, classNames: s.classNames });
  assertFigure(t, fig, 'grid');
  t.true(fig.svg.includes('First 40 training images'));
  t.true(fig.svg.includes('5 · Bags &amp; boots'), 'label and escaped class name under the first image');
  t.true(fig.svg.includes('data:image/png;base64,'));
  t.true(fig.svg.includes('Trousers &amp;'));
  t.true(darkShare(fig.png) > 0.3, 'mostly black image backgrounds');
  // (N,28,28,1) uint8 is accepted too, and fewer than 40 images make a smaller grid.
  const u8 = { dtype: 'uint8', shape: [6, 28, 28, 1], data: Uint8Array.from(s.images.data.subarray(0, 6 * 784), (v) => v * 255) };
  const small = await renderImageGrid(u8, { labels: [1, 2, 3, 4, 5, 1], classNames: CLASS_NAMES, labelBase: 1 });
  t.true(small.svg.includes('First 6 training images'));
  t.true(small.width < fig.width);
});

test('image grid: bad arguments', async (t) => {
  const images = { dtype: 'float32', shape: [2, 28, 28], data: new Float32Array(2 * 784) };
  let e = await t.throwsAsync(renderImageGrid({ dtype: 'float32', shape: [2, 5, 28, 28], data: new Float32Array(2 * 5 * 784) }), { instanceOf: InvalidOptionError });
  t.is(e.option, 'images.shape');
  t.is(e.message, 'Invalid option images.shape: expected images with 1 to 4 channels (grey, grey + alpha, RGB, RGBA), received "(2,5,28,28)"');
  e = await t.throwsAsync(renderImageGrid({ dtype: 'int16', shape: [2, 28, 28], data: new Int16Array(2 * 784) }), { instanceOf: InvalidOptionError });
  t.is(e.option, 'images.dtype');
  e = await t.throwsAsync(renderImageGrid(images, { labels: [1] }), { instanceOf: InvalidOptionError });
  t.is(e.option, 'labels');
  e = await t.throwsAsync(renderImageGrid(images, { columns: 0 }), { instanceOf: InvalidOptionError });
  t.is(e.option, 'columns');
  e = await t.throwsAsync(renderImageGrid(images, { pngScale: 0 }), { instanceOf: InvalidOptionError });
  t.is(e.option, 'pngScale');
});

test('training curves: one run with early stopping, and a comparison', async (t) => {
  const one = await renderTrainingCurves([{ name: 'CNN', history: fakeHistory(15), stoppedEpoch: 15 }]);
  assertFigure(t, one, 'curves (CNN)');
  for (const s of ['Training curves: CNN', 'Loss', 'Accuracy', 'Epoch', 'Cross-entropy loss', 'early stop, epoch 15', 'Training', 'Validation', 'stroke-dasharray']) {
    t.true(one.svg.includes(s), `CNN curves contain ${s}`);
  }
  const both = await renderTrainingCurves([
    { name: 'CNN', history: fakeHistory(15), stoppedEpoch: 12 },
    { name: 'ResNet v1 depth 2', history: fakeHistory(25, { lossScale: 1.5 }) },
  ]);
  assertFigure(t, both, 'curves (comparison)');
  for (const s of ['CNN vs ResNet v1 depth 2', 'CNN: early stop, epoch 12', 'Model', '#4e79a7', '#f28e2b']) {
    t.true(both.svg.includes(s), `comparison contains ${s}`);
  }
  // The label says why the run stopped: a callback's control.stop() or timeLimitMs are not early stopping.
  const reasons = await renderTrainingCurves([
    { name: 'CNN', history: fakeHistory(6), stoppedEpoch: 4, stopReason: 'timeLimit' },
    { name: 'ResNet', history: fakeHistory(6), stoppedEpoch: 5, stopReason: 'stop' },
  ]);
  t.true(reasons.svg.includes('CNN: time limit reached, epoch 4'));
  t.true(reasons.svg.includes('ResNet: stopped by a callback, epoch 5'));
  t.false(reasons.svg.includes('early stop'));
  const bad = await t.throwsAsync(renderTrainingCurves([{ name: 'CNN', history: fakeHistory(3), stoppedEpoch: 2, stopReason: 'tired' }]), { instanceOf: InvalidOptionError });
  t.is(bad.option, 'runs[0].stopReason');
  // A diverged epoch (NaN) is a gap, not an error.
  const h = fakeHistory(5);
  h.valLoss[2] = Number.NaN;
  await t.notThrowsAsync(renderTrainingCurves([{ name: 'x', history: h }]));
});

test('training curves: bad arguments', async (t) => {
  let e = await t.throwsAsync(renderTrainingCurves([]), { instanceOf: InvalidOptionError });
  t.is(e.option, 'runs');
  const h = fakeHistory(3);
  e = await t.throwsAsync(renderTrainingCurves([{ name: 'a', history: { ...h, valLoss: [1] } }]), { instanceOf: InvalidOptionError });
  t.is(e.option, 'runs[0].history.valLoss');
  t.regex(e.message, /expected an array of 3 numbers \(one per epoch\), received an array of length 1/);
  e = await t.throwsAsync(renderTrainingCurves([{ name: 'a', history: h }, { name: 'a', history: h }]), { instanceOf: InvalidOptionError });
  t.is(e.option, 'runs');
});

test('confusion matrix heat map: counts, row shares, class names', async (t) => {
  const { yTrue, yPred } = fakePredictions(900, 0.85, 7);
  const m = confusionMatrix(yTrue, yPred, 5);
  const names = CLASS_NAMES.map((c, i) => `${i + 1} ${c}`);
  const fig = await renderConfusionMatrix(m, { classNames: names, title: 'CNN: confusion matrix' });
  assertFigure(t, fig, 'confusion matrix');
  for (const s of ['CNN: confusion matrix', 'True label', 'Predicted label', '2 Trousers &amp; dresses', 'Row share', String(m[0][0])]) {
    t.true(fig.svg.includes(s), `contains ${s}`);
  }
  const rowShare = `${((m[0][0] / m[0].reduce((a, b) => a + b, 0)) * 100).toFixed(1)}%`;
  t.true(fig.svg.includes(rowShare), `row share ${rowShare}`);
  // Many classes: smaller cells, counts only.
  const big = Array.from({ length: 15 }, (_, i) => Array.from({ length: 15 }, (_, j) => (i === j ? 100 : j)));
  const bigFig = await renderConfusionMatrix(big);
  assertFigure(t, bigFig, 'confusion matrix 15×15');
  t.notRegex(bigFig.svg, /\d\.\d%<\/text>/, 'no percentages in small cells');
  t.regex(fig.svg, /\d\.\d%<\/text>/, 'percentages in large cells');
  const e = await t.throwsAsync(renderConfusionMatrix([[1, 2], [3]]), { instanceOf: InvalidOptionError });
  t.is(e.option, 'matrix[1]');
  const e2 = await t.throwsAsync(renderConfusionMatrix([[1]], { classNames: ['a', 'b'] }), { instanceOf: InvalidOptionError });
  t.is(e2.option, 'classNames');
});

test('model diagram: CNN chain and ResNet skip connections', async (t) => {
  const cnn = await renderModelDiagram(cnnSummary());
  assertFigure(t, cnn, 'diagram (CNN)');
  for (const s of ['model_cnn5 (33,989 parameters)', 'conv2d', 'Conv2D', 'batch_normalization_4', 'BatchNormalization', '(None, 26, 26, 32)', '[(None, 28, 28, 1)]', '(None, 1600)', 'Liberation Sans']) {
    t.true(cnn.svg.includes(s), `CNN diagram contains ${s}`);
  }
  t.false(cnn.svg.includes('<?xml'), 'embeddable: no XML declaration');
  const summary = resnetSummary(8);
  const dot = modelDiagramDot(summary);
  const edges = summary.layers.reduce((a, l) => a + l.inbound.length, 0);
  t.is(dot.match(/ -> /g).length, edges, 'one edge per inbound link');
  const res = await renderModelDiagram(summary);
  assertFigure(t, res, 'diagram (ResNet depth 8)');
  t.true(res.svg.includes('add_2'));
  // An Add layer's input is the list of both inbound shapes.
  t.true(res.svg.includes('[(None, 28, 28, 16), (None, 28, 28, 16)]'));
  t.is((res.svg.match(/class="edge"/g) ?? []).length, edges);
  const bad = cnnSummary();
  bad.layers[3].inbound = ['nope'];
  const e = await t.throwsAsync(renderModelDiagram(bad), { instanceOf: InvalidOptionError });
  t.is(e.option, 'summary.layers[3].inbound[0]');
});

test('formatSummary: Keras model.summary() text for the CNN', (t) => {
  const expected = `Model: "model_cnn5"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
input_1 (InputLayer)         [(None, 28, 28, 1)]       0         
_________________________________________________________________
conv2d (Conv2D)              (None, 26, 26, 32)        320       
_________________________________________________________________
batch_normalization (BatchNo (None, 26, 26, 32)        128       
_________________________________________________________________
max_pooling2d (MaxPooling2D) (None, 13, 13, 32)        0         
_________________________________________________________________
batch_normalization_1 (Batch (None, 13, 13, 32)        128       
_________________________________________________________________
conv2d_1 (Conv2D)            (None, 11, 11, 64)        18496     
_________________________________________________________________
batch_normalization_2 (Batch (None, 11, 11, 64)        256       
_________________________________________________________________
max_pooling2d_1 (MaxPooling2 (None, 5, 5, 64)          0         
_________________________________________________________________
batch_normalization_3 (Batch (None, 5, 5, 64)          256       
_________________________________________________________________
flatten (Flatten)            (None, 1600)              0         
_________________________________________________________________
batch_normalization_4 (Batch (None, 1600)              6400      
_________________________________________________________________
dense (Dense)                (None, 5)                 8005      
=================================================================
Total params: 33,989
Trainable params: 30,405
Non-trainable params: 3,584
_________________________________________________________________`;
  t.is(formatSummary(cnnSummary()), expected);
  t.is(formatShape([1600]), '(None, 1600)');
});

test("formatSummary: 'Connected to' for a ResNet with skip connections, as Keras decides", (t) => {
  const text = formatSummary(resnetSummary(8));
  const lines = text.split('\n');
  t.is(lines[2], 'Layer (type)                    Output Shape         Param #     Connected to                     ');
  t.true(lines.every((l) => l.length === 98 || l.startsWith('Model:') || /params:/.test(l)));
  const add = lines.findIndex((l) => l.startsWith('add (Add)'));
  t.is(lines[add], 'add (Add)                       (None, 28, 28, 16)   0           conv2d[0][0]                     ');
  t.is(lines[add + 1], `${' '.repeat(65)}conv2d_2[0][0]                   `);
  t.true(text.includes('Total params: 93,161'));
  // The notebook's depth-2 ResNet is a plain chain: Keras prints the short table.
  const chain = formatSummary(resnetSummary(2));
  t.false(chain.includes('Connected to'));
  t.true(chain.includes('Total params: 62,889'));
  t.true(formatSummary(resnetSummary(2), { connectedTo: true }).includes('Connected to'));
  t.true(formatSummary(cnnSummary(), { connectedTo: true }).includes('conv2d (Conv2D)                 (None, 26, 26, 32)   320         input_1[0][0]'));
  t.is(t.throws(() => formatSummary(cnnSummary(), { lineLength: 10 }), { instanceOf: InvalidOptionError }).option, 'lineLength');
});
