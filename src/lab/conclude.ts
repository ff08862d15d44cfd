import { costsOf } from './costs.js';
import { noiseOf } from './noise.js';
import type { LabReport, Measured } from './results.js';
import { verdictsOf } from './verdicts.js';

/** The report of what was measured: the machine's noise, the verdicts drawn from the trials, what async costs. */
export function conclude(measured: Measured): LabReport {
  const noise = noiseOf(measured);
  return { ...measured, verdicts: verdictsOf(measured, noise), costs: costsOf(measured), noise };
}
