/**
 * Two sizes for the suites whose work scales: make test runs them short
 * (same checks, smaller files, shorter loops), make soak long (GCMA_SOAK=1,
 * test/run.ts --soak), for the long runs that find what a short one misses.
 */
export const SOAK = process.env['GCMA_SOAK'] === '1';

/** The test run's value, or the soak's. */
export function scaled<T>(test: T, soak: T): T {
  return SOAK ? soak : test;
}
