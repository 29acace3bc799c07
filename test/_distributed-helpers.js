// Moved to test/support/distributed.js; kept while branches that import this path are merged. New
// tests import ./support/distributed.js.
export { freePort, spawnRank } from './support/distributed.js';
