import type { Scope } from '../lib/processes.ts';
import type { Profile } from '../lib/stack.ts';

/**
 * One table of `npm run bench` (scripts/bench.ts): what was measured, side
 * by side with the floor it is judged against, measured in the same run.
 */
export interface Section {
  title: string;
  columns: string[];
  rows: string[][];
  /** What the reader needs to read the table: what the floor is, what a ratio divides. */
  notes?: string[];
}

export interface BenchContext {
  profile: Profile;
  /** A short run that exercises every path and asserts no timing (CI runs it so the bench cannot rot). */
  smoke: boolean;
  /** Owns every process a section starts; scripts/bench.ts stops it at the end. */
  scope: Scope;
  /** A directory of this run's own; a section makes a subdirectory per stack it starts. */
  workDir: string;
  log(line: string): void;
}

/** A section: starts what it needs in ctx.scope, measures, stops what it started. */
export type BenchSection = (ctx: BenchContext) => Promise<Section[]>;
