#!/usr/bin/env node
/**
 * The command line: train (the notebook end to end), info, dataset, report, summary, build.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { buildDataset } from './data/dataset.js';
import { TorchfitError } from './errors.js';
import { runNotebook } from './notebook/run.js';
import { readReportInput } from './report/results.js';
import { writeReport } from './report/report.js';
import { formatSummary } from './report/summary.js';
import { info } from './torch/info.js';
import { describeModel } from './torch/model.js';
import { packageRoot } from './torch/native.js';

const HELP = `torchfit: train the Fashion-MNIST notebook's models on libtorch from Node.js

Usage: torchfit <command> [options]

Commands:
  train              run the notebook: load, split, train the CNN and the ResNet, evaluate, report
  info               libtorch version, CUDA, devices and threads
  dataset            build data/fashion_mnist_dataset_{train,test}.npy from Debian's Fashion-MNIST
  report <run-dir>   re-render <run-dir>/report.html from its results.json
  summary            print a model's Keras-style summary (--model, --depth)
  build              build the native addon in place (after an install that skipped scripts)

train options (defaults are the notebook's):
  --data PATH          dataset .npy (default data/fashion_mnist_dataset_train.npy)
  --heldout PATH       extra test file (default data/fashion_mnist_dataset_test.npy, when present)
  --model M            cnn | resnet | both (default both)
  --depth N            ResNet depth, 6n+2 (default 2)
  --epochs N           default 25
  --batch-size N       default 128
  --optimizer O        sgd | adam (default: sgd for the CNN, adam for the ResNet)
  --lr X               learning rate (default: 0.01 for SGD, 0.001 for Adam)
  --patience N         CNN early-stopping patience on val_loss (default 10)
  --seed N             default 0
  --device D           auto | cpu | cuda | cuda:N (default auto)
  --threads N          CPU threads (default: all cores, ${availableParallelism()} here)
  --kernels K          fused | plain: torchfit's fused CPU kernels, or libtorch's ops only (default fused)
  --out DIR            output folder (default runs/<timestamp>)
  --quick              a first look: 4,000 training images, 2 epochs (about a minute or two on 2 cores)
  --verbose N          0, 1 (progress bar on a TTY) or 2 (a line per epoch); default 1

dataset options:
  --source DIR         Fashion-MNIST gz files (default /usr/share/datasets/fashion-mnist)
  --out DIR            default data
  --force              rebuild even if the files exist
`;

class UsageError extends Error {}

function int(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} expects an integer >= ${min}, got '${value}'`);
  return Number(value);
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

async function train(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' }, heldout: { type: 'string' }, model: { type: 'string' }, depth: { type: 'string' },
      epochs: { type: 'string' }, 'batch-size': { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' },
      patience: { type: 'string' }, seed: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' },
      out: { type: 'string' }, quick: { type: 'boolean' }, verbose: { type: 'string' }, limit: { type: 'string' },
      kernels: { type: 'string' },
    },
    strict: true,
  });
  const model = values.model ?? 'both';
  if (!['cnn', 'resnet', 'both'].includes(model)) throw new UsageError(`--model expects cnn, resnet or both, got '${model}'`);
  const depth = int('depth', values.depth, 2, 2);
  if ((depth - 2) % 6 !== 0) throw new UsageError(`--depth expects a ResNet v1 depth 6n+2 (2, 8, 14, 20, ...), got ${depth}`);
  const optimizer = values.optimizer;
  if (optimizer !== undefined && optimizer !== 'sgd' && optimizer !== 'adam') throw new UsageError(`--optimizer expects sgd or adam, got '${optimizer}'`);
  const lr = values.lr === undefined ? undefined : Number(values.lr);
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw new UsageError(`--lr expects a positive number, got '${values.lr}'`);
  const device = values.device ?? 'auto';
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device expects auto, cpu, cuda or cuda:N, got '${device}'`);
  const kernels = values.kernels ?? 'fused';
  if (kernels !== 'fused' && kernels !== 'plain') throw new UsageError(`--kernels expects fused or plain, got '${kernels}'`);
  const verbose = int('verbose', values.verbose, 1);
  if (verbose > 2) throw new UsageError(`--verbose expects 0, 1 or 2, got ${verbose}`);
  const quick = values.quick === true;
  const limit = values.limit !== undefined ? int('limit', values.limit, 0, 256) : quick ? 4000 : undefined;
  const out = values.out ?? join('runs', timestamp());
  const result = await runNotebook({
    data: values.data ?? join('data', 'fashion_mnist_dataset_train.npy'),
    heldOut: values.heldout ?? join('data', 'fashion_mnist_dataset_test.npy'),
    models: model === 'both' ? ['cnn', 'resnet'] : [model as 'cnn' | 'resnet'],
    depth,
    epochs: int('epochs', values.epochs, quick ? 2 : 25, 1),
    batchSize: int('batch-size', values['batch-size'], 128, 1),
    ...(optimizer ? { optimizer } : {}),
    ...(lr !== undefined ? { learningRate: lr } : {}),
    patience: int('patience', values.patience, 10),
    seed: int('seed', values.seed, 0),
    device: device as 'auto',
    threads: int('threads', values.threads, availableParallelism(), 1),
    kernels,
    out,
    ...(limit !== undefined ? { limit } : {}),
    verbose: verbose as 0 | 1 | 2,
  });
  console.log('\n=== Comparison ===');
  for (const run of result.report.runs) {
    const f = run.final;
    console.log(`${run.name.padEnd(22)} train ${(f.train.accuracy * 100).toFixed(2)} %  val ${(f.val.accuracy * 100).toFixed(2)} %  test ${(f.test.accuracy * 100).toFixed(2)} %` +
      `  ${run.timings.secondsPerEpoch.toFixed(1)} s/epoch  ${run.timings.msPerStep.toFixed(0)} ms/step  (${run.device})`);
  }
  console.log(`\nReport: ${result.html}\nResults: ${result.json}\nModels: ${result.dir}/*.pt`);
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'train':
      await train(rest);
      return 0;
    case 'info': {
      console.log(JSON.stringify(info(), null, 2));
      return 0;
    }
    case 'dataset': {
      const { values } = parseArgs({ args: rest, options: { source: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } }, strict: true });
      const result = await buildDataset({
        ...(values.source ? { sourceDir: values.source } : {}),
        outDir: values.out ?? join(packageRoot, 'data'),
        force: values.force === true,
      });
      console.log(`${result.built ? 'Wrote' : 'Up to date'}: ${result.trainPath} (${result.counts.train.join('/')} per label), ${result.testPath} (${result.counts.test.join('/')} per label)`);
      return 0;
    }
    case 'report': {
      const dir = rest[0];
      if (!dir) throw new UsageError('report expects a run folder: torchfit report runs/<timestamp>');
      const input = await readReportInput(join(dir, 'results.json'));
      const files = await writeReport(input, dir);
      console.log(`Report: ${files.html}`);
      return 0;
    }
    case 'summary': {
      const { values } = parseArgs({ args: rest, options: { model: { type: 'string' }, depth: { type: 'string' } }, strict: true });
      const kind = values.model ?? 'cnn';
      if (kind !== 'cnn' && kind !== 'resnet') throw new UsageError(`--model expects cnn or resnet, got '${kind}'`);
      const summary = describeModel(kind === 'cnn' ? { kind } : { kind, depth: int('depth', values.depth, 2, 2) });
      console.log(formatSummary(summary));
      return 0;
    }
    case 'build': {
      const result = spawnSync(process.execPath, [join(packageRoot, 'scripts', 'build-native.mjs')], { stdio: 'inherit' });
      return result.status ?? 1;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (error as { code?: string })?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      console.error(`torchfit: ${(error as Error).message}\nRun 'torchfit --help' for the options.`);
      process.exitCode = 2;
    } else if (error instanceof TorchfitError) {
      console.error(`torchfit: ${error.message} [${error.code}]`);
      process.exitCode = 1;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
