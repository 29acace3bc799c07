// Moved to test/support/data.js; kept while branches that import this path are merged. New tests
// import ./support/data.js.
export { realImages, root, trainFile, withoutTimings } from './support/data.js';
