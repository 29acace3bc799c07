// Reporting: metrics, figures, the summary and the HTML report.
import {
  accuracyScore, confusionMatrix, classificationReport, renderTrainingCurves, renderConfusionMatrix, renderImageGrid,
  renderModelDiagram, formatSummary, writeReport, readReportInput, fontStatus,
  type Figure, type ReportInput, type ReportFiles, type ClassificationReport, type ModelSummary, type History, type NdArray,
} from 'torchfit';

declare const summary: ModelSummary;
declare const history: History;
declare const images: NdArray;
declare const input: ReportInput;

export async function usage(): Promise<void> {
  const yTrue = Int32Array.from([0, 1, 2]);
  const yPred = [0, 2, 2];
  const accuracy: number = accuracyScore(yTrue, yPred);
  const matrix: number[][] = confusionMatrix(yTrue, yPred, 3);
  const report: ClassificationReport = classificationReport(yTrue, yPred, { targetNames: ['a', 'b', 'c'], digits: 4, zeroDivision: 0 });
  const text: string = report.text;
  const curves: Figure = await renderTrainingCurves([{ name: 'CNN', history }], { title: 'Curves', pngScale: 1 });
  const png: Buffer = curves.png;
  const svg: string = (await renderConfusionMatrix(matrix, { classNames: ['a', 'b', 'c'] })).svg;
  await renderImageGrid(images, { classNames: ['a'] });
  await renderModelDiagram(summary);
  const table: string = formatSummary(summary);
  const files: ReportFiles = await writeReport(input, 'runs/latest');
  const again: ReportInput = await readReportInput(files.json);
  const missing: boolean = fontStatus().missing;
  void [accuracy, text, png, svg, table, again, missing];

  // @ts-expect-error zeroDivision is 'warn', 0 or 1
  classificationReport(yTrue, yPred, { zeroDivision: 2 });
  // @ts-expect-error writeReport takes a directory
  await writeReport(input);
}

// @ts-expect-error HTML escaping is internal
import { escapeHtml } from 'torchfit';
// @ts-expect-error the palette is internal
import { PALETTE } from 'torchfit';
void escapeHtml; void PALETTE;
