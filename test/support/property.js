// A fast-check property as one AVA assertion: it passes when the property holds for every run and
// fails with fast-check's report (seed, path, shrunk counterexample) otherwise.
import fc from 'fast-check';

export function holds(t, property, parameters) {
  t.notThrows(() => fc.assert(property, parameters));
}
