/**
 * trainModel()'s `distributed` option: data-parallel training over libtorch's c10d
 * (Gloo on CPU, NCCL on CUDA builds). Validation and defaults live here; the core
 * receives one plain struct.
 */
import { described, DistributedError, InvalidOptionError } from '../errors.js';
import type { NativeDistributedConfig, NativeRuntimeInfo } from './native.js';

export interface DistributedOptions {
  /** This process's rank, 0 to worldSize - 1. Rank 0 hosts the rendezvous store and its weights are broadcast at start. */
  rank: number;
  /** How many processes train together (every one calls trainModel with the same data and options). */
  worldSize: number;
  /** Rank 0's address, reachable from every rank. Default '127.0.0.1' (one machine). */
  masterAddr?: string;
  /** The port rank 0 listens on for the rendezvous. Default 29500 (PyTorch's). */
  masterPort?: number;
  /**
   * Once training has started, every collective gives up after this long, rejecting with a
   * DistributedError (ERR_DISTRIBUTED_TIMEOUT): a rank that hangs or is stopped cannot make
   * the others wait forever (one that dies is noticed at once: its connections close). Default 60000.
   */
  timeoutMs?: number;
  /**
   * How long the ranks wait for each other to arrive at the start (processes on a cluster
   * may start minutes apart). Default: 300000 (5 minutes), or timeoutMs when that is longer.
   */
  rendezvousTimeoutMs?: number;
  /** 'auto' (default): NCCL on CUDA devices when this build has it, Gloo otherwise. */
  backend?: 'auto' | 'gloo' | 'nccl';
  /**
   * Network interface Gloo binds to, e.g. 'eth0'. Default: the GLOO_SOCKET_IFNAME environment
   * variable, else the interface that routes to masterAddr.
   */
  interface?: string;
  /** Gradients are all-reduced in flat buckets of at most this many MiB (DDP's bucket_cap_mb). Default 25. */
  bucketCapMb?: number;
}

/** Resolved, before the backend is chosen (that needs the device). */
export type ResolvedDistributed = Omit<NativeDistributedConfig, 'backend'> & { backend: 'auto' | 'gloo' | 'nccl' };

const KNOWN = new Set(['rank', 'worldSize', 'masterAddr', 'masterPort', 'timeoutMs', 'rendezvousTimeoutMs', 'backend', 'interface', 'bucketCapMb']);
const ENV_HINT = "distributed: 'env' reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT";

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined && fallback !== undefined) return fallback;
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new InvalidOptionError(`env.${name}`, `an integer from ${min} to ${max} (${ENV_HINT})`, raw);
  }
  return Number(raw);
}

/**
 * The distributed settings torchrun-style launchers put in the environment: RANK and
 * WORLD_SIZE (required), MASTER_ADDR (default 127.0.0.1), MASTER_PORT (default 29500).
 * Spread it to change other settings.
 *
 * @example
 * await trainModel({ ...options, distributed: { ...distributedFromEnv(), timeoutMs: 10_000 } });
 */
export function distributedFromEnv(env: NodeJS.ProcessEnv = process.env): DistributedOptions {
  const worldSize = envInt(env, 'WORLD_SIZE', 1, 65535);
  const rank = envInt(env, 'RANK', 0, worldSize - 1);
  const masterAddr = env.MASTER_ADDR ?? '127.0.0.1';
  const masterPort = envInt(env, 'MASTER_PORT', 1, 65535, 29500);
  return { rank, worldSize, masterAddr, masterPort };
}

/** Validates `distributed` and fills its defaults; undefined when training alone. */
export function resolveDistributed(value: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedDistributed | undefined {
  if (value === undefined || value === false) return undefined;
  const given = value === 'env' || value === true ? distributedFromEnv(env) : value;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidOptionError('distributed', "'env' or { rank, worldSize, masterAddr?, masterPort?, timeoutMs?, rendezvousTimeoutMs?, backend?, interface?, bucketCapMb? }", value);
  }
  const options = given as Partial<DistributedOptions>;
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(`distributed.${key}`, `one of ${[...KNOWN].join(', ')}`, described(`unknown option '${key}'`));
  }
  const { worldSize, rank } = options;
  if (!isInt(worldSize, 1, 65535)) throw new InvalidOptionError('distributed.worldSize', 'an integer from 1 to 65535', worldSize);
  if (!isInt(rank, 0, worldSize - 1)) throw new InvalidOptionError('distributed.rank', `an integer from 0 to ${worldSize - 1} (worldSize - 1)`, rank);
  const masterAddr = options.masterAddr ?? '127.0.0.1';
  if (typeof masterAddr !== 'string' || !/^[A-Za-z0-9.:_-]{1,253}$/.test(masterAddr)) {
    throw new InvalidOptionError('distributed.masterAddr', 'a host name or IP address', masterAddr);
  }
  const masterPort = options.masterPort ?? 29500;
  if (!isInt(masterPort, 1, 65535)) throw new InvalidOptionError('distributed.masterPort', 'an integer from 1 to 65535', masterPort);
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!isInt(timeoutMs, 100, 86_400_000)) throw new InvalidOptionError('distributed.timeoutMs', 'an integer from 100 to 86400000 (milliseconds)', timeoutMs);
  const rendezvousTimeoutMs = options.rendezvousTimeoutMs ?? Math.max(300_000, timeoutMs);
  if (!isInt(rendezvousTimeoutMs, 100, 86_400_000)) {
    throw new InvalidOptionError('distributed.rendezvousTimeoutMs', 'an integer from 100 to 86400000 (milliseconds)', rendezvousTimeoutMs);
  }
  const backend = options.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'gloo' && backend !== 'nccl') throw new InvalidOptionError('distributed.backend', "'auto', 'gloo' or 'nccl'", backend);
  const iface = options.interface ?? env.GLOO_SOCKET_IFNAME ?? '';
  if (typeof iface !== 'string' || !/^[A-Za-z0-9._:-]{0,64}$/.test(iface)) {
    throw new InvalidOptionError('distributed.interface', "a network interface name such as 'eth0'", iface);
  }
  const bucketCapMb = options.bucketCapMb ?? 25;
  if (typeof bucketCapMb !== 'number' || !(bucketCapMb > 0 && bucketCapMb <= 4096)) {
    throw new InvalidOptionError('distributed.bucketCapMb', 'a number of MiB in (0, 4096]', bucketCapMb);
  }
  return {
    rank, worldSize, masterAddr, masterPort, timeoutMs, rendezvousTimeoutMs, backend, interface: iface,
    bucketBytes: Math.max(4, Math.round(bucketCapMb * 1024 * 1024)),
  };
}

/** Picks the backend for the device and checks this build carries it. */
export function chooseBackend(resolved: ResolvedDistributed, device: string, runtime: NativeRuntimeInfo): NativeDistributedConfig {
  const onCuda = device.startsWith('cuda');
  const backend = resolved.backend === 'auto' ? (onCuda && runtime.distributed.nccl ? 'nccl' : 'gloo') : resolved.backend;
  if (backend === 'nccl' && !onCuda) {
    throw new InvalidOptionError('distributed.backend', "'gloo' or 'auto' for training on the CPU (NCCL runs on CUDA devices)", backend);
  }
  if (backend === 'nccl' && !runtime.distributed.nccl) {
    throw new DistributedError('ERR_DISTRIBUTED_UNAVAILABLE',
      "distributed.backend 'nccl': this build of torchfit has no NCCL: it needs a CUDA libtorch with c10d's NCCL headers and nccl.h, then a rebuild (npx torchfit build); 'gloo' works on CUDA tensors too");
  }
  if (backend === 'gloo' && !runtime.distributed.gloo) {
    throw new DistributedError('ERR_DISTRIBUTED_UNAVAILABLE',
      'distributed training needs Gloo, which this build of torchfit lacks: install its headers (Debian: sudo apt-get install libgloo-dev), then rebuild (npx torchfit build, or npm run setup in a clone)');
  }
  return { ...resolved, backend };
}
