#!/usr/bin/env node
/**
 * The command line: train (the notebook end to end), info, dataset, report, summary, build.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { buildDataset } from './data/dataset.js';
import { InvalidOptionError, TorchfitError } from './errors.js';
import { freePort, launchRanks } from './launch/launcher.js';
import type { ImageFolderSource } from './notebook/image-dataset.js';
import { runNotebook } from './notebook/run.js';
import { readReportInput } from './report/results.js';
import { writeReport } from './report/report.js';
import { formatSummary } from './report/summary.js';
import { distributedFromEnv, type DistributedOptions } from './torch/distributed.js';
import { info } from './torch/info.js';
import { describeModel } from './models/describe.js';
import type { LayerSpec } from './models/layers.js';
import { packageRoot } from './torch/native.js';
import { TRAIN_DEFAULTS } from './torch/defaults.js';

const HELP = `torchfit: train the Fashion-MNIST notebook's models on libtorch from Node.js

Usage: torchfit <command> [options]

Commands:
  train              run the notebook: load, split, train the CNN and the ResNet, evaluate, report
  info               libtorch version, CUDA, devices and threads
  dataset            build data/fashion_mnist_dataset_{train,test}.npy from Debian's Fashion-MNIST
  report <run-dir>   re-render <run-dir>/report.html from its results.json
  summary            print a model's Keras-style summary (--model, --depth, or --layers FILE.json:
                     { layers, inputShape?: [h, w, c], numClasses? } of the layers API)
  build              compile the native addon against this system's libtorch (when the prebuilt one does not fit)

train options (defaults are the library's, the notebook's where it has one):
  --data PATH          dataset .npy (default data/fashion_mnist_dataset_train.npy)
  --images DIR         train on an image folder instead: DIR/<class name>/*.{png,jpg,jpeg,webp}
  --image-size HxW     with --images: the size images are resized to (default 32x32)
  --channels N         with --images: 3 (RGB, default) or 1 (grey)
  --heldout PATH       extra test file (default data/fashion_mnist_dataset_test.npy, when present)
  --model M            cnn | resnet | both (default both)
  --depth N            ResNet depth, 6n+2 (default ${TRAIN_DEFAULTS.resnetDepth})
  --epochs N           default ${TRAIN_DEFAULTS.epochs}
  --batch-size N       default ${TRAIN_DEFAULTS.batchSize}
  --optimizer O        sgd | adam (default: ${TRAIN_DEFAULTS.optimizer.cnn} for the CNN, ${TRAIN_DEFAULTS.optimizer.other} for the ResNet)
  --lr X               learning rate (default: ${TRAIN_DEFAULTS.learningRate.sgd} for SGD, ${TRAIN_DEFAULTS.learningRate.adam} for Adam)
  --patience N         CNN early-stopping patience on val_loss (default ${TRAIN_DEFAULTS.earlyStoppingPatience})
  --seed N             default ${TRAIN_DEFAULTS.seed}
  --device D           auto | cpu | cuda | cuda:N (default ${TRAIN_DEFAULTS.device})
  --threads N          CPU threads (default: all cores, ${availableParallelism()} here)
  --kernels K          fused | plain: torchfit's fused CPU kernels, or libtorch's ops only (default ${TRAIN_DEFAULTS.kernels})
  --batch-norm-momentum X  the models' BatchNorm momentum, Keras's terms (default ${TRAIN_DEFAULTS.batchNormMomentum})
  --out DIR            output folder (default runs/<timestamp>)
  --quick              a first look: 4,000 training images, 2 epochs, the CNN with batchNormMomentum 0.9
                       (Keras's ${TRAIN_DEFAULTS.batchNormMomentum} needs about 1,000 steps to settle); flags given override these
  --verbose N          0, 1 (progress bar on a TTY) or 2 (a line per epoch); default 1

distributed training (data-parallel over c10d; --batch-size is then per process):
  --nproc N            start N worker processes here, like torchrun (loopback unless --nnodes > 1);
                       each gets --threads cores / N by default; rank 0 evaluates and writes the report
  --nnodes M           machines taking part, each running --nproc workers (default 1)
  --node-rank K        this machine's index, 0..M-1 (default 0)
  --rank R             or: this process's rank, without the launcher (one process per command)
  --world-size W       with --rank: how many processes train together
  --master-addr HOST   rank 0's address (default 127.0.0.1)
  --master-port PORT   rank 0's rendezvous port (default: a free port with --nproc alone, else 29500)
  --dist-timeout MS    give up when a rank dies, hangs or never arrives (default 60000)
  Without --nproc or --rank, RANK and WORLD_SIZE in the environment (set by torchrun-style
  launchers, with MASTER_ADDR and MASTER_PORT) make this process one rank.

dataset options:
  --source DIR         Fashion-MNIST gz files (default /usr/share/datasets/fashion-mnist)
  --out DIR            default data
  --force              rebuild even if the files exist
`;

class UsageError extends Error {}

/**
 * A value for trainModel as the user typed it: a number when it reads as one, else the text,
 * so that the library's own checks word the error (what it expected, what it received).
 */
function given(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(value.trim()) ? Number(value) : value) as number;
}

// The flags behind trainModel's options, named in its errors.
const FLAG_OF: Record<string, string> = {
  epochs: '--epochs', batchSize: '--batch-size', optimizer: '--optimizer', 'optimizer.learningRate': '--lr',
  'earlyStopping.patience': '--patience', seed: '--seed', device: '--device', threads: '--threads', kernels: '--kernels',
  verbose: '--verbose', 'model.depth': '--depth', batchNormMomentum: '--batch-norm-momentum',
};

/** `--epochs -1` reads as a flag -1 to parseArgs: joined as `--epochs=-1` so the value reaches the checks. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (/^--[a-z][a-z-]*$/.test(argv[i]!) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]!);
    }
  }
  return out;
}

/** What --quick chose, said once before training. */
const QUICK = { limit: 4000, epochs: 2, cnnMomentum: 0.9 } as const;

function int(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} expects an integer >= ${min}, got '${value}'`);
  return Number(value);
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

async function train(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: joinNegativeValues(argv),
    options: {
      help: { type: 'boolean', short: 'h' }, 'batch-norm-momentum': { type: 'string' },
      data: { type: 'string' }, heldout: { type: 'string' }, model: { type: 'string' }, depth: { type: 'string' },
      epochs: { type: 'string' }, 'batch-size': { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' },
      patience: { type: 'string' }, seed: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' },
      out: { type: 'string' }, quick: { type: 'boolean' }, verbose: { type: 'string' }, limit: { type: 'string' },
      ...DISTRIBUTED_FLAGS,
      kernels: { type: 'string' },
      images: { type: 'string' }, 'image-size': { type: 'string' }, channels: { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.nproc !== undefined) return launch(values);
  const distributed = distributedFrom(values);
  const model = values.model ?? 'both';
  if (!['cnn', 'resnet', 'both'].includes(model)) throw new UsageError(`--model expects cnn, resnet or both, got '${model}'`);
  // trainModel's own options go through as typed: the library checks them (before any data is read).
  const device = values.device;
  const quick = values.quick === true;
  const limit = values.limit !== undefined ? int('limit', values.limit, 0, 256) : quick ? QUICK.limit : undefined;
  const epochs = given(values.epochs) ?? (quick ? QUICK.epochs : undefined);
  const batchSize = given(values['batch-size']);
  const momentum = given(values['batch-norm-momentum']);
  const batchNormMomentum = momentum !== undefined ? { cnn: momentum, resnet: momentum } : quick ? { cnn: QUICK.cnnMomentum } : undefined;
  if (quick) console.log(quickSettings(values, limit!, epochs!, batchSize, model));
  const out = values.out ?? join('runs', timestamp());
  const images = imagesFrom(values);
  if (distributed) console.log(`torchfit: rank ${distributed.rank} of ${distributed.worldSize}, rendezvous at ${distributed.masterAddr}:${distributed.masterPort}`);
  const result = await runNotebook({
    data: values.data ?? join('data', 'fashion_mnist_dataset_train.npy'),
    ...(images ? { images } : {}),
    heldOut: values.heldout ?? join('data', 'fashion_mnist_dataset_test.npy'),
    models: model === 'both' ? ['cnn', 'resnet'] : [model as 'cnn' | 'resnet'],
    // Undefined where not given: the notebook runner leaves those to trainModel's defaults.
    depth: given(values.depth),
    epochs,
    batchSize,
    ...(values.optimizer !== undefined ? { optimizer: values.optimizer as 'sgd' } : {}),
    ...(values.lr !== undefined ? { learningRate: given(values.lr) } : {}),
    patience: given(values.patience),
    seed: given(values.seed),
    threads: given(values.threads),
    kernels: values.kernels as 'fused' | undefined,
    ...(distributed ? { device: deviceForRank(device ?? TRAIN_DEFAULTS.device) as 'auto' } : device !== undefined ? { device: device as 'auto' } : {}),
    out,
    ...(limit !== undefined ? { limit } : {}),
    ...(batchNormMomentum ? { batchNormMomentum } : {}),
    verbose: (given(values.verbose) ?? 1) as 0 | 1 | 2,
    ...(distributed ? { distributed } : {}),
  });
  if (result === null) return 0;  // another rank than 0: rank 0 reports
  console.log('\n=== Comparison ===');
  for (const run of result.report.runs) {
    const f = run.final;
    console.log(`${run.name.padEnd(22)} train ${(f.train.accuracy * 100).toFixed(2)} %  val ${(f.val.accuracy * 100).toFixed(2)} %  test ${(f.test.accuracy * 100).toFixed(2)} %` +
      `  ${run.timings.secondsPerEpoch.toFixed(1)} s/epoch  ${run.timings.msPerStep.toFixed(0)} ms/step  (${run.device})`);
  }
  console.log(`\nReport: ${result.html}\nResults: ${result.json}\nModels: ${result.dir}/*.pt`);
  return 0;
}

/** The settings --quick chose (flags given win), printed before it starts. */
function quickSettings(values: TrainValues, limit: number, epochs: number, given: number | undefined, model: string): string {
  const batchSize = given ?? TRAIN_DEFAULTS.batchSize;
  const steps = Number.isInteger(epochs) && Number.isInteger(batchSize) && batchSize > 0 ? Math.ceil(limit / batchSize) * epochs : undefined;
  const cnn = model !== 'resnet';
  const momentum = values['batch-norm-momentum'] !== undefined ? `batchNormMomentum ${values['batch-norm-momentum']} (--batch-norm-momentum)`
    : cnn ? `the CNN with batchNormMomentum ${QUICK.cnnMomentum} instead of Keras's 0.99, whose moving statistics need about 1,000 steps ` +
      `to settle${steps !== undefined ? ` (this run has ${steps})` : ''}${model === 'both' ? "; the ResNet keeps Keras's 0.99 (its one BatchNorm, on the images, settles fast)" : ''}`
      : "the ResNet with Keras's batchNormMomentum 0.99";
  return `--quick: a first look on ${limit.toLocaleString('en-US')} training images${values.limit !== undefined ? ' (--limit)' : ''}, ${epochs} epochs` +
    `${values.epochs !== undefined ? ' (--epochs)' : ''}; ${momentum}. The report labels it a subset run.`;
}

/** --images DIR [--image-size HxW] [--channels 1|3]. */
function imagesFrom(values: Record<string, string | boolean | undefined>): ImageFolderSource | undefined {
  const dir = values.images as string | undefined;
  if (dir === undefined) {
    if (values['image-size'] !== undefined || values.channels !== undefined) throw new UsageError('--image-size and --channels go with --images DIR');
    return undefined;
  }
  const size = /^(\d+)x(\d+)$/.exec((values['image-size'] as string | undefined) ?? '32x32');
  if (!size || Number(size[1]) < 1 || Number(size[2]) < 1 || Number(size[1]) > 4096 || Number(size[2]) > 4096) {
    throw new UsageError(`--image-size expects HEIGHTxWIDTH from 1x1 to 4096x4096, got '${values['image-size']}'`);
  }
  const channels = (values.channels as string | undefined) ?? '3';
  if (channels !== '1' && channels !== '3') throw new UsageError(`--channels expects 1 or 3, got '${channels}'`);
  return { dir, size: [Number(size[1]), Number(size[2])], channels: Number(channels) as 1 | 3 };
}

const DISTRIBUTED_FLAGS = {
  nproc: { type: 'string' }, nnodes: { type: 'string' }, 'node-rank': { type: 'string' }, rank: { type: 'string' },
  'world-size': { type: 'string' }, 'master-addr': { type: 'string' }, 'master-port': { type: 'string' }, 'dist-timeout': { type: 'string' },
} as const;
type TrainValues = Record<string, string | boolean | undefined>;

function masterAddr(values: TrainValues): string {
  const addr = (values['master-addr'] as string | undefined) ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(addr)) throw new UsageError(`--master-addr expects a host name or IP address, got '${addr}'`);
  return addr;
}

/**
 * One GPU per process: with several ranks on a CUDA machine, 'auto' and 'cuda' mean the
 * GPU of this process's local rank (LOCAL_RANK, set by launchers), as with torchrun.
 */
function deviceForRank(device: string): string {
  if (device !== 'auto' && device !== 'cuda') return device;
  const runtime = info();
  if (!runtime.cudaAvailable || runtime.deviceCount === 0) return device;
  const local = Number(process.env.LOCAL_RANK ?? 0);
  return `cuda:${(Number.isInteger(local) && local >= 0 ? local : 0) % runtime.deviceCount}`;
}

/** --rank/--world-size, else a launcher's RANK/WORLD_SIZE environment, else none. */
function distributedFrom(values: TrainValues): DistributedOptions | undefined {
  const timeoutMs = int('dist-timeout', values['dist-timeout'] as string | undefined, 60_000, 100);
  if (values.rank === undefined && values['world-size'] === undefined) {
    if (process.env.RANK === undefined || process.env.WORLD_SIZE === undefined) return undefined;
    return { ...distributedFromEnv(), timeoutMs };
  }
  if (values.rank === undefined || values['world-size'] === undefined) throw new UsageError('--rank and --world-size go together');
  const worldSize = int('world-size', values['world-size'] as string, 1, 1);
  const rank = int('rank', values.rank as string, 0);
  if (rank >= worldSize) throw new UsageError(`--rank expects 0 to ${worldSize - 1} (--world-size - 1), got ${rank}`);
  const port = int('master-port', values['master-port'] as string | undefined, 29500, 1);
  if (port > 65535) throw new UsageError(`--master-port expects a port from 1 to 65535, got ${port}`);
  return { rank, worldSize, masterAddr: masterAddr(values), masterPort: port, timeoutMs };
}

/** --nproc N: this process becomes the launcher of N workers running the same train command. */
async function launch(values: TrainValues): Promise<number> {
  if (values.rank !== undefined || values['world-size'] !== undefined) {
    throw new UsageError('--nproc starts the ranks itself: use --nnodes and --node-rank for several machines, not --rank/--world-size');
  }
  const nproc = int('nproc', values.nproc as string, 1, 1);
  const nnodes = int('nnodes', values.nnodes as string | undefined, 1, 1);
  const nodeRank = int('node-rank', values['node-rank'] as string | undefined, 0);
  if (nodeRank >= nnodes) throw new UsageError(`--node-rank expects 0 to ${nnodes - 1} (--nnodes - 1), got ${nodeRank}`);
  if (nnodes > 1 && values['master-addr'] === undefined) throw new UsageError('--nnodes > 1 needs --master-addr: the address of the machine with --node-rank 0');
  const addr = masterAddr(values);
  const port = values['master-port'] !== undefined ? int('master-port', values['master-port'] as string, 29500, 1)
    : nnodes > 1 ? 29500 : await freePort(addr);
  if (port > 65535) throw new UsageError(`--master-port expects a port from 1 to 65535, got ${port}`);
  // Every worker runs this command without the launcher's flags, with one output folder and its share of the cores.
  const passed: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (key in DISTRIBUTED_FLAGS && key !== 'dist-timeout') continue;
    if (key === 'out' || key === 'threads' || value === undefined || value === false) continue;
    passed.push(`--${key}`, ...(value === true ? [] : [value]));
  }
  const threads = int('threads', values.threads as string | undefined, Math.max(1, Math.floor(availableParallelism() / nproc)), 1);
  const out = (values.out as string | undefined) ?? join('runs', timestamp());
  const args = [process.argv[1]!, 'train', ...passed, '--out', out, '--threads', String(threads)];
  console.log(`torchfit: starting ${nproc} workers (ranks ${nodeRank * nproc}..${nodeRank * nproc + nproc - 1} of ${nproc * nnodes}), ` +
    `rendezvous at ${addr}:${port}, ${threads} thread(s) each`);
  const result = await launchRanks({ nproc, nnodes, nodeRank, masterAddr: addr, masterPort: port, command: process.execPath, args });
  if (result.exitCode !== 0) console.error(`torchfit: distributed training failed (rank ${result.failedRank ?? '?'} first); exit codes: ${result.exits.join(', ')}`);
  return result.exitCode;
}

function help(): number {
  console.log(HELP);
  return 0;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'train':
      return train(rest);
    case 'info': {
      console.log(JSON.stringify(info(), null, 2));
      return 0;
    }
    case 'dataset': {
      const { values } = parseArgs({ args: rest, options: { source: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
      if (values.help) return help();
      const result = await buildDataset({
        ...(values.source ? { sourceDir: values.source } : {}),
        outDir: values.out ?? join(packageRoot, 'data'),
        force: values.force === true,
      });
      console.log(`${result.built ? 'Wrote' : 'Up to date'}: ${result.trainPath} (${result.counts.train.join('/')} per label), ${result.testPath} (${result.counts.test.join('/')} per label)`);
      return 0;
    }
    case 'report': {
      if (rest[0] === '--help' || rest[0] === '-h') return help();
      const dir = rest[0];
      if (!dir) throw new UsageError('report expects a run folder: torchfit report runs/<timestamp>');
      const input = await readReportInput(join(dir, 'results.json'));
      const files = await writeReport(input, dir);
      console.log(`Report: ${files.html}`);
      return 0;
    }
    case 'summary': {
      const { values } = parseArgs({ args: rest, options: { model: { type: 'string' }, depth: { type: 'string' }, layers: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
      if (values.help) return help();
      if (values.layers !== undefined) {
        const file = JSON.parse(await readFile(values.layers, 'utf8')) as { layers?: unknown; inputShape?: [number, number, number]; numClasses?: number };
        const { summary } = describeModel({ layers: file.layers as LayerSpec[] }, { inputShape: file.inputShape, numClasses: file.numClasses });
        console.log(formatSummary(summary));
        return 0;
      }
      const kind = values.model ?? 'cnn';
      if (kind !== 'cnn' && kind !== 'resnet') throw new UsageError(`--model expects cnn or resnet, got '${kind}'`);
      const { summary } = describeModel(kind === 'cnn' ? { kind } : { kind, depth: int('depth', values.depth, 2, 2) });
      console.log(formatSummary(summary));
      return 0;
    }
    case 'build': {
      const result = spawnSync(process.execPath, [join(packageRoot, 'scripts', 'build', 'build-native.mjs')], { stdio: 'inherit' });
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
      // A flag's value the library refused is a usage error (exit code 2) like the CLI's own.
      const flag = error instanceof InvalidOptionError ? FLAG_OF[error.option] : undefined;
      console.error(`torchfit: ${error.message}${flag ? ` (${flag})` : ''} [${error.code}]`);
      process.exitCode = flag ? 2 : 1;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  },
);
