// writeReport: every file written, the page and the figures folder agree,
// results.json round-trips through readReportInput, text is escaped.
import test from 'ava';
import { mkdtemp, readFile, readdir, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport, readReportInput, classificationReport, formatSummary, NOTEBOOK_RESULTS, escapeHtml } from '../dist/report/index.js';
import { InvalidOptionError, TorchfitError } from '../dist/errors.js';
import { fakeReportInput, fakeHistory, CLASS_NAMES } from './fixtures/report/fake-input.js';

async function tempDir(t) {
  const dir = await mkdtemp(join(tmpdir(), 'torchfit-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const exists = (p) => access(p).then(() => true, () => false);

/** Every figures/... path the page refers to (img src and links). */
function referencedFigures(html) {
  return new Set([...html.matchAll(/(?:src|href)="(figures\/[^"]+)"/g)].map((m) => m[1]));
}

test('writes report.html, results.json and every figure; page and folder agree', async (t) => {
  const dir = await tempDir(t);
  const input = fakeReportInput();
  const files = await writeReport(input, join(dir, 'out'));
  t.is(files.html, join(dir, 'out', 'report.html'));
  t.is(files.json, join(dir, 'out', 'results.json'));
  // Samples, comparison, and per run: curves, diagram, test confusion (+ held-out for the CNN); SVG and PNG each.
  t.is(files.figures.length, 2 * (1 + 1 + 3 + 1 + 3));
  for (const f of [files.html, files.json, ...files.figures]) t.true(await exists(f), f);

  const html = await readFile(files.html, 'utf8');
  const onDisk = new Set((await readdir(join(dir, 'out', 'figures'))).map((f) => `figures/${f}`));
  const referenced = referencedFigures(html);
  t.deepEqual([...referenced].sort(), [...onDisk].sort(), 'the page references exactly the figure files that exist');
  for (const f of files.figures) t.true(referenced.has(`figures/${f.split('/figures/')[1]}`));
  // Every figure is shown (an <img>), not only linked.
  const shown = new Set([...html.matchAll(/<img src="(figures\/[^"]+)"/g)].map((m) => m[1]));
  t.is(shown.size, files.figures.length / 2);

  // Self-contained and script-free.
  t.false(/<script/i.test(html), 'no script element (and the option value <script> is escaped)');
  t.false(/<link\b/i.test(html));
  t.false(/(src|href)="(https?:)?\/\//i.test(html), 'no external resources');
  t.true(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.true(html.includes('<title>Fashion-MNIST: CNN vs ResNet &lt;test &amp; &quot;escape&quot;&gt;</title>'));
  t.true(html.includes('Trousers &amp; dresses'));

  // The content the brief asks for.
  for (const s of [
    'data/fashion_mnist_dataset_train.npy', '60,000', '43,200', '10,800', '6,000',
    'CNN versus ResNet v1 depth 2', 'notebook', 'Colab GPU',
    '88.64 %', '85.13 %', '76.01 %', '74.63 %', '73.47 %', '≈ 2', '≈ 6', '≈ 1', '≈ 3',
    'Final loss and accuracy', 'Held-out file', 'early stop at epoch 15',
    'ms / step', '6.10', '2.10', '31.5', 'Total params: 33,989', 'Trainable params: 30,405',
    'Per-epoch log', 'val_accuracy', 'batchSize', '{&quot;name&quot;:&quot;sgd&quot;,&quot;learningRate&quot;:0.01}',
    'libtorch 2.1.2', '2024-05-31 12:34:56 UTC',
  ]) {
    t.true(html.includes(s), `page contains ${s}`);
  }
  // The sklearn text, exactly, for each run's test split (labels shown 1..5 with names).
  for (const run of input.runs) {
    const report = classificationReport(run.test.yTrue, run.test.yPred, {
      labels: [0, 1, 2, 3, 4],
      targetNames: CLASS_NAMES.map((c, i) => `${i + 1} ${c}`),
    });
    t.true(html.includes(`<pre class="sklearn">${escapeHtml(report.text)}</pre>`), `${run.name}: classification report text`);
    t.true(html.includes(escapeHtml(formatSummary(run.summary))), `${run.name}: model summary`);
  }
  t.is(NOTEBOOK_RESULTS.cnn.testAccuracy, 0.8513);

  // results.json carries metrics for people and the input for redrawing.
  const results = JSON.parse(await readFile(files.json, 'utf8'));
  t.is(results.format, 'torchfit-report');
  t.is(results.version, 1);
  t.is(results.metrics.length, 2);
  t.deepEqual(results.metrics[0].test.confusionMatrix.length, 5);
  t.truthy(results.metrics[0].heldOut);
  t.is(results.input.dataset.sampleImages.dtype, 'float32');
  t.deepEqual(results.input.dataset.sampleImages.shape, [40, 28, 28]);
  t.true(Array.isArray(results.input.runs[0].test.yTrue), 'typed arrays stored as plain arrays');
  t.deepEqual(results.figures, files.figures.map((f) => `figures/${f.split('/figures/')[1]}`));
});

test('results.json round-trips: readReportInput gives back the input, and redrawing gives the same files', async (t) => {
  const dir = await tempDir(t);
  const input = fakeReportInput();
  // What JSON cannot hold is left out of both the file and the page.
  input.options.log = () => {};
  input.options.unset = undefined;
  const first = await writeReport(input, join(dir, 'a'));
  const back = await readReportInput(first.json);

  t.true(back.runs[0].test.yTrue instanceof Int32Array);
  t.true(back.runs[1].test.yPred instanceof Int32Array, 'plain arrays come back as Int32Array');
  t.true(back.dataset.sampleLabels instanceof Int32Array);
  t.is(back.dataset.sampleImages.dtype, 'float32');
  t.deepEqual(back.dataset.sampleImages.shape, [40, 28, 28]);
  t.deepEqual(back.dataset.sampleImages.data, input.dataset.sampleImages.data, 'sample images bit for bit');
  t.deepEqual(Array.from(back.runs[1].test.yTrue), Array.from(input.runs[1].test.yTrue));
  t.deepEqual(back.runs[0].history, input.runs[0].history);
  t.deepEqual(back.runs[0].summary, input.runs[0].summary);
  t.deepEqual(back.runs[0].final, input.runs[0].final);
  t.deepEqual(back.runs[0].options, input.runs[0].options);
  t.deepEqual(back.environment, input.environment);
  t.deepEqual(back.options, { dataset: input.options.dataset, randomState: 0, note: input.options.note });
  t.is(back.createdAt, input.createdAt);

  const second = await writeReport(back, join(dir, 'b'));
  t.is(await readFile(second.json, 'utf8'), await readFile(first.json, 'utf8'), 'results.json identical');
  t.is(await readFile(second.html, 'utf8'), await readFile(first.html, 'utf8'), 'report.html identical');
  for (let i = 0; i < first.figures.length; i++) {
    if (first.figures[i].endsWith('.svg')) {
      t.is(await readFile(second.figures[i], 'utf8'), await readFile(first.figures[i], 'utf8'), `${first.figures[i]} identical`);
    }
  }
});

test('NaN in a history survives results.json (stored as null, read back as NaN)', async (t) => {
  const dir = await tempDir(t);
  const input = fakeReportInput({ withImages: false });
  input.runs[1].history.valLoss[3] = Number.NaN;
  input.createdAt = new Date('2024-06-01T00:00:00Z');
  const files = await writeReport(input, dir);
  const json = JSON.parse(await readFile(files.json, 'utf8'));
  t.is(json.input.runs[1].history.valLoss[3], null);
  t.is(json.input.createdAt, '2024-06-01T00:00:00.000Z');
  t.false('sampleImages' in json.input.dataset);
  const back = await readReportInput(files.json);
  t.true(Number.isNaN(back.runs[1].history.valLoss[3]));
  t.is(files.figures.filter((f) => f.includes('samples')).length, 0, 'no sample grid without images');
  const html = await readFile(files.html, 'utf8');
  t.false(html.includes('Sample images'));
});

test('a ResNet with skip connections: diagram with Add layers, Connected to column', async (t) => {
  const dir = await tempDir(t);
  const files = await writeReport(fakeReportInput({ withImages: false, resnetDepth: 8 }), dir);
  const html = await readFile(files.html, 'utf8');
  t.true(html.includes('Connected to'));
  t.true(html.includes('add (Add)'));
  const svg = await readFile(files.figures.find((f) => f.endsWith('resnet-v1-depth-8-model.svg')), 'utf8');
  t.true(svg.includes('add_2'));
  // No notebook row for a depth the notebook did not run.
  t.is((html.match(/<tr class="ref">/g) ?? []).length, 1);
});

test('figures of an earlier report that are not redrawn are removed; other files are kept', async (t) => {
  const dir = await tempDir(t);
  await writeReport(fakeReportInput({ withImages: false }), dir);
  await writeFile(join(dir, 'notes.txt'), 'mine');
  const input = fakeReportInput({ withImages: false });
  input.runs = [input.runs[0]];
  const files = await writeReport(input, dir);
  const onDisk = (await readdir(join(dir, 'figures'))).sort();
  t.deepEqual(onDisk, files.figures.map((f) => f.split('/figures/')[1]).sort());
  t.false(onDisk.some((f) => f.startsWith('resnet') || f.startsWith('comparison')));
  t.is(await readFile(join(dir, 'notes.txt'), 'utf8'), 'mine');
  const html = await readFile(files.html, 'utf8');
  t.true(html.includes('<h2>Results</h2>'));
});

test('a bad input names the field and writes nothing', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'never');
  const cases = [
    [(i) => { i.runs[0].test.yPred[3] = 7; }, 'input.runs[0].test.yPred[3]', /a 0-based class index from 0 to 4, received 7/],
    [(i) => { i.runs[1].history.loss = [1, 2]; }, 'input.runs[1].history.loss', /an array of 25 numbers/],
    [(i) => { i.runs[1].name = 'CNN'; }, 'input.runs[1].name', /no other run has/],
    [(i) => { i.dataset.split.val = -1; }, 'input.dataset.split.val', /integer/],
    [(i) => { i.createdAt = 'yesterday'; }, 'input.createdAt', /ISO 8601/],
    [(i) => { i.runs = []; }, 'input.runs', /non-empty/],
    [(i) => { i.runs[0].summary.layers[2].inbound = ['dense']; }, 'input.runs[0].summary.layers[2].inbound[0]', /earlier layer/],
    [(i) => { delete i.runs[0].timings; }, 'input.runs[0].timings', /msPerStep/],
  ];
  for (const [mutate, option, message] of cases) {
    const input = fakeReportInput({ withImages: false });
    mutate(input);
    const e = await t.throwsAsync(writeReport(input, out), { instanceOf: InvalidOptionError });
    t.is(e.option, option);
    t.regex(e.message, message);
  }
  t.false(await exists(out));
});

test('readReportInput: clear errors for a missing or foreign file', async (t) => {
  const dir = await tempDir(t);
  let e = await t.throwsAsync(readReportInput(join(dir, 'results.json')), { instanceOf: TorchfitError });
  t.is(e.code, 'ERR_REPORT_NOT_FOUND');
  await writeFile(join(dir, 'a.json'), '{"hello": 1}');
  e = await t.throwsAsync(readReportInput(join(dir, 'a.json')), { instanceOf: TorchfitError });
  t.is(e.code, 'ERR_REPORT_FORMAT');
  t.regex(e.message, /not a torchfit results\.json/);
  await writeFile(join(dir, 'b.json'), '{"format": "torchfit-report", "version": 99}');
  e = await t.throwsAsync(readReportInput(join(dir, 'b.json')), { instanceOf: TorchfitError });
  t.regex(e.message, /version 99 is not supported/);
  await writeFile(join(dir, 'c.json'), '{ not json');
  e = await t.throwsAsync(readReportInput(join(dir, 'c.json')), { instanceOf: TorchfitError });
  t.is(e.code, 'ERR_REPORT_FORMAT');
  // A results.json whose content is damaged says which field.
  const files = await writeReport(fakeReportInput({ withImages: false }), join(dir, 'ok'));
  const doc = JSON.parse(await readFile(files.json, 'utf8'));
  doc.input.runs[0].history.epoch = [];
  await writeFile(join(dir, 'd.json'), JSON.stringify(doc));
  e = await t.throwsAsync(readReportInput(join(dir, 'd.json')), { instanceOf: TorchfitError });
  t.regex(e.message, /results\.input\.runs\[0\]\.history\.epoch/);
});

test('the page says why a run stopped early: time limit, a callback, early stopping; an unknown reason is refused', async (t) => {
  const dir = await tempDir(t);
  const input = fakeReportInput({ withImages: false });
  input.runs[0] = { ...input.runs[0], stopReason: 'timeLimit' };
  const files = await writeReport(input, join(dir, 'out'));
  const html = await readFile(files.html, 'utf8');
  t.true(html.includes('time limit reached at epoch 15'));
  t.false(html.includes('early stop at epoch 15'));
  const doc = JSON.parse(await readFile(files.json, 'utf8'));
  t.is(doc.input.runs[0].stopReason, 'timeLimit', 'results.json keeps the reason');
  doc.input.runs[0].stopReason = 'tired';
  await writeFile(join(dir, 'bad.json'), JSON.stringify(doc));
  const e = await t.throwsAsync(readReportInput(join(dir, 'bad.json')), { instanceOf: TorchfitError });
  t.regex(e.message, /results\.input\.runs\[0\]\.stopReason/);
});

test('a single run with a short history renders', async (t) => {
  const dir = await tempDir(t);
  const input = fakeReportInput({ withImages: false });
  input.runs = [{ ...input.runs[1], history: fakeHistory(1) }];
  input.title = undefined;
  const files = await writeReport(input, dir);
  const html = await readFile(files.html, 'utf8');
  t.true(html.includes('<title>torchfit report: ResNet v1 depth 2</title>'));
});
