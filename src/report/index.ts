/**
 * Reporting: scikit-learn-exact metrics, figures (SVG and PNG), Keras-style model
 * summaries and diagrams, and the HTML report with its results.json.
 *
 * Internal: this folder's surface for the tests and scripts of this repository. Users import
 * the package entry (src/index.ts), which picks the public names; package.json's "exports"
 * does not reach this file.
 */
export { accuracyScore, confusionMatrix, classificationReport } from './metrics.js';
export type { Labels, ZeroDivision, ClassificationReportOptions, ClassificationReport, ClassMetrics, AverageMetrics } from './metrics.js';
export { formatFixed } from './pyformat.js';
export { renderImageGrid } from './image-grid.js';
export type { ImageGridOptions } from './image-grid.js';
export { renderTrainingCurves } from './curves.js';
export type { CurveRun, TrainingCurvesOptions } from './curves.js';
export { renderConfusionMatrix } from './confusion-plot.js';
export type { ConfusionMatrixOptions } from './confusion-plot.js';
export { renderModelDiagram, modelDiagramDot } from './diagram.js';
export type { ModelDiagramOptions } from './diagram.js';
export { formatSummary, formatShape } from './summary.js';
export type { FormatSummaryOptions } from './summary.js';
export { svgToPng, fontStatus, FONT_FAMILY, PALETTE } from './render.js';
export type { Figure, FigureOptions, FontStatus } from './render.js';
export { writeReport, FIGURES_DIR } from './report.js';
export { readReportInput, checkReportInput, RESULTS_FORMAT, RESULTS_VERSION } from './results.js';
export { escapeHtml } from './html.js';
export { NOTEBOOK_RESULTS, notebookResultFor } from './notebook.js';
export type { NotebookResult } from './notebook.js';
export type { ReportInput, ReportRun, ReportDataset, ReportEnvironment, ReportPredictions, ReportTimings, LossAccuracy, ReportFiles } from './types.js';
