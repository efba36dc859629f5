/** One comparison: the same work done the plain way (baseline) and through Mosaic, in the same run. */
export interface BenchResult {
  name: string;
  baselineMs: number;
  mosaicMs: number;
  /** mosaicMs / baselineMs: below 1 Mosaic is faster, above 1 it costs more. */
  ratio: number;
  notes?: string;
}
