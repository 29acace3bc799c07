#!/usr/bin/python3
"""Regenerates test/fixtures/ with numpy and scikit-learn (run with /usr/bin/python3).

The fixtures let the data tests check exact values even where numpy is absent:
.npy files numpy wrote (every dtype, both byte orders, Fortran order, 0-d, empty,
format versions 1.0/2.0/3.0, pickled dicts at protocols 2 to 5), refused pickles,
and scikit-learn split indices and numpy RandomState outputs.
"""
import hashlib
import json
import os
import pickle
import sys

import numpy as np
import sklearn
from sklearn.model_selection import train_test_split

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
NPY = os.path.join(ROOT, 'npy')
os.makedirs(NPY, exist_ok=True)

CODES = ['b1', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4', 'f8']
NAMES = {'b1': 'bool', 'i1': 'int8', 'u1': 'uint8', 'i2': 'int16', 'u2': 'uint16', 'i4': 'int32', 'u4': 'uint32',
         'i8': 'int64', 'u8': 'uint64', 'f2': 'float16', 'f4': 'float32', 'f8': 'float64'}


def values(code, n):
    """Deterministic values that exercise sign, range and (for floats) fractions."""
    if code == 'b1':
        return np.array([i % 3 == 0 for i in range(n)])
    dt = np.dtype(code)
    if dt.kind in 'iu':
        info = np.iinfo(dt)
        base = [info.min, info.max, 0, 1, info.max // 3, info.min // 5 if dt.kind == 'i' else 7]
        return np.array([base[i % len(base)] for i in range(n)], dtype=dt)
    return np.array([0.5, -1.25, 3.0e3, -0.0, 1 / 3, 65504.0][:n] + [i * 0.1 for i in range(max(0, n - 6))], dtype=dt)


def expected(a):
    """JSON form of an array: int64/uint64 as strings, float16 as raw bits, floats via repr (exact)."""
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind == 'b':
        vals = [int(x) for x in flat]
    elif a.dtype.kind in 'iu':
        vals = [str(int(x)) if a.dtype.itemsize == 8 else int(x) for x in flat]
    elif a.dtype.itemsize == 2:
        vals = [int(x) for x in flat.view(np.uint16 if a.dtype.byteorder in '=<|' else np.dtype('>u2'))]
    else:
        vals = [float(x) for x in flat]
    return {'dtype': NAMES[a.dtype.kind + str(a.dtype.itemsize) if a.dtype.kind != 'b' else 'b1'], 'shape': list(a.shape), 'values': vals}


manifest = {'numpy': np.__version__, 'arrays': {}, 'pickles': {}}

for code in CODES:
    orders = ['|'] if np.dtype(code).itemsize == 1 else ['<', '>']
    for order in orders:
        a = values(code, 6).astype(np.dtype(code).newbyteorder(order) if order != '|' else code).reshape(2, 3)
        name = f'{NAMES[code]}{"_be" if order == ">" else ""}.npy'
        np.save(os.path.join(NPY, name), a)
        manifest['arrays'][name] = expected(a.astype(a.dtype.newbyteorder('=')))

f = np.asfortranarray(np.arange(24, dtype='<i4').reshape(2, 3, 4))
np.save(os.path.join(NPY, 'fortran_int32.npy'), f)
manifest['arrays']['fortran_int32.npy'] = expected(np.ascontiguousarray(f))
fb = np.asfortranarray(np.arange(6, dtype='>f8').reshape(2, 3) / 7)
np.save(os.path.join(NPY, 'fortran_float64_be.npy'), fb)
manifest['arrays']['fortran_float64_be.npy'] = expected(np.ascontiguousarray(fb).astype('<f8'))

np.save(os.path.join(NPY, 'scalar_float64.npy'), np.float64(2.5))
manifest['arrays']['scalar_float64.npy'] = expected(np.array(2.5))
np.save(os.path.join(NPY, 'empty_float32.npy'), np.zeros((0, 3), dtype='<f4'))
manifest['arrays']['empty_float32.npy'] = expected(np.zeros((0, 3), dtype='<f4'))

for version in [(2, 0), (3, 0)]:
    a = np.arange(5, dtype='<u2')
    name = f'v{version[0]}_uint16.npy'
    with open(os.path.join(NPY, name), 'wb') as fh:
        np.lib.format.write_array(fh, a, version=version)
    manifest['arrays'][name] = expected(a)

DICT = {
    'features': (np.arange(12, dtype=np.float32).reshape(3, 2, 2) / 10),
    'target': np.array([1.0, 2.0, 5.0]),
    'class_names': ['Tops', 'Bags & boots', 'Ünïcode ✓'],
    'count': 3,
    'ratio': 0.25,
    'flag': True,
    'nothing': None,
    'nested': {'ints': [1, -2, 2 ** 40], 'tuple': (1, 'a')},
    'scalar32': np.float32(1.5),
    'scalar64i': np.int64(-7),
    'bytes': b'\x00\x01binary',
}


def expected_dict():
    return {
        'features': expected(DICT['features']), 'target': expected(DICT['target']),
        'class_names': DICT['class_names'], 'count': 3, 'ratio': 0.25, 'flag': True, 'nothing': None,
        'nested': {'ints': [1, -2, 2 ** 40], 'tuple': [1, 'a']}, 'scalar32': 1.5, 'scalar64i': '-7',
        'bytes': list(DICT['bytes']),
    }


np.save(os.path.join(NPY, 'dict_np_save.npy'), DICT, allow_pickle=True)
manifest['pickles']['dict_np_save.npy'] = expected_dict()
header = np.lib.format.header_data_from_array_1_0(np.empty((), dtype=object))
for proto in (2, 4, 5):
    name = f'dict_protocol{proto}.npy'
    with open(os.path.join(NPY, name), 'wb') as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        pickle.dump(np.array(DICT, dtype=object), fh, protocol=proto)
    manifest['pickles'][name] = expected_dict()

# Object array with more than one element, Fortran-ordered.
objarr = np.empty((2, 2), dtype=object, order='F')
objarr[0, 0], objarr[0, 1], objarr[1, 0], objarr[1, 1] = 'a', 1, None, [2]
np.save(os.path.join(NPY, 'object_2x2.npy'), objarr, allow_pickle=True)
manifest['pickles']['object_2x2.npy'] = {'dtype': 'object', 'shape': [2, 2], 'data': ['a', 1, None, [2]]}


class Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned > /tmp/torchfit-pwned',))


for proto in (2, 4):
    name = f'evil_os_system_p{proto}.npy'
    with open(os.path.join(NPY, name), 'wb') as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        pickle.dump(Exploit(), fh, protocol=proto)

# numpy RandomState and scikit-learn split references.
rng_cases = []
for seed in [0, 1, 42, 12345, 2 ** 32 - 1]:
    rs = np.random.RandomState(seed)
    state = rs.get_state()[1]
    words = np.random.RandomState(seed).randint(0, 2 ** 32, size=8, dtype=np.uint32)
    rng_cases.append({'seed': seed, 'key': [int(x) for x in state[:6]] + [int(state[623])],
                      'uint32': [int(x) for x in words],
                      'randomSample': [float(x) for x in np.random.RandomState(seed).random_sample(4)],
                      'permutation20': [int(x) for x in np.random.RandomState(seed).permutation(20)]})
arr = np.random.RandomState([1, 2, 3])
rng_cases.append({'seedArray': [1, 2, 3], 'key': [int(x) for x in arr.get_state()[1][:6]],
                  'randomSample': [float(x) for x in arr.random_sample(4)]})


def sha(a):
    return hashlib.sha256(np.asarray(a, dtype='<i4').tobytes()).hexdigest()


splits = []
for n in [2, 3, 7, 10, 33, 100, 1000]:
    for test_size in [0.1, 0.25, 0.5, 0.33, 1]:
        for seed in [0, 1, 42]:
            try:
                tr, te = train_test_split(np.arange(n), test_size=test_size, random_state=seed)
            except ValueError:
                continue
            case = {'n': n, 'testSize': test_size, 'randomState': seed}
            if n <= 100:
                case.update(train=tr.tolist(), test=te.tolist())
            else:
                case.update(trainLength=len(tr), testLength=len(te), trainSha256=sha(tr), testSha256=sha(te),
                            trainHead=tr[:10].tolist(), testHead=te[:10].tolist())
            splits.append(case)
for kw in [dict(train_size=0.5, test_size=0.25), dict(train_size=4), dict(test_size=3, train_size=5), dict(shuffle=False, test_size=0.3)]:
    tr, te = train_test_split(np.arange(20), random_state=7, **kw)
    js = {'testSize': 'test_size', 'trainSize': 'train_size', 'shuffle': 'shuffle'}
    case = {'n': 20, 'randomState': 7, 'train': tr.tolist(), 'test': te.tolist()}
    for k, v in js.items():
        if v in kw:
            case[k] = kw[v]
    splits.append(case)

notebook = []
for n in [60000, 10000, 1000]:
    x = np.arange(n)
    a, b = train_test_split(x, test_size=0.10, random_state=0)
    c, d = train_test_split(b, test_size=0.5, random_state=0)
    notebook.append({'n': n, 'trainLength': len(a), 'testLength': len(c), 'valLength': len(d),
                     'trainSha256': sha(a), 'testSha256': sha(c), 'valSha256': sha(d),
                     'trainHead': a[:10].tolist(), 'testHead': c[:10].tolist(), 'valHead': d[:10].tolist()})

with open(os.path.join(ROOT, 'split.json'), 'w') as fh:
    json.dump({'numpy': np.__version__, 'sklearn': sklearn.__version__, 'randomState': rng_cases,
               'trainTestSplit': splits, 'notebookSplit': notebook}, fh, separators=(',', ':'))
with open(os.path.join(ROOT, 'npy.json'), 'w') as fh:
    json.dump(manifest, fh, separators=(',', ':'), ensure_ascii=False)
print('fixtures written to', os.path.normpath(ROOT), file=sys.stderr)
