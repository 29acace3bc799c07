/**
 * The figure renderers are optional dependencies: a user who only trains can install torchfit
 * with `npm install --omit=optional` and skip them. They are imported on the first figure
 * (never when torchfit is imported); a missing one is a MissingDependencyError with the
 * command that installs them all, at the versions package.json asks for.
 */
import { MissingDependencyError } from '../errors.js';

/** package.json's optionalDependencies (test/report-optional.test.js keeps the two equal). */
export const REPORT_PACKAGES = {
  '@resvg/resvg-js': '2.6.2',
  '@viz-js/viz': '3.31.0',
  pngjs: '7.0.0',
  vega: '6.4.0',
  'vega-lite': '6.4.1',
} as const;

export type ReportPackage = keyof typeof REPORT_PACKAGES;

/** The command that installs every report package. */
export function reportInstallCommand(): string {
  return `npm install ${Object.entries(REPORT_PACKAGES).map(([name, version]) => `${name}@${version}`).join(' ')}`;
}

/**
 * Runs `load` (a literal `import('<name>')`, so TypeScript knows the module's type) and turns
 * "module not found" into MissingDependencyError naming `name`.
 *
 * @example
 * const { PNG } = await importReportPackage('pngjs', () => import('pngjs'));
 */
export async function importReportPackage<T>(name: ReportPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingDependencyError(
      `Drawing figures (writeReport, renderTrainingCurves, renderConfusionMatrix, renderImageGrid, renderModelDiagram) needs the ` +
        `optional package '${name}', which is not installed (an install with --omit=optional leaves the report packages out). ` +
        `Install them with: ${reportInstallCommand()}`,
      Object.keys(REPORT_PACKAGES),
      { cause: error },
    );
  }
}
