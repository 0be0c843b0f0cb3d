/**
 * What failed in a vitest run, from its JSON report (`--reporter=json
 * --outputFile.json=<file>`): npm test prints it under its table of steps, so
 * the end of a long log says which test failed and why, not only which step.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

/** The part of vitest's JSON report read here. */
export interface VitestReport {
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
  }>;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape that starts a terminal colour
const colours = /\u001b\[[0-9;]*m/g;

/**
 * The first `lines` non-empty lines of a failure message, without terminal colours; of its stack
 * (the report gives the stack, not the diff), only the first frame outside node_modules.
 */
function excerpt(message: string, lines: number): string[] {
  const all = message
    .replace(colours, '')
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
  const frame = (line: string) => /^\s+at /.test(line);
  const ours = all.find((line) => frame(line) && !line.includes('node_modules'));
  return [...all.filter((line) => !frame(line)).slice(0, lines), ...(ours ? [ours.trim()] : [])];
}

/**
 * One entry per failed test (file > full name, then the first lines of its
 * message), and one per file that failed without a failed test (it did not
 * load, or a hook threw); paths relative to `root`.
 */
export function failuresOf(report: VitestReport, root: string, lines = 4): string[][] {
  const found: string[][] = [];
  for (const file of report.testResults) {
    const name = relative(root, file.name);
    const failed = file.assertionResults.filter((test) => test.status === 'failed');
    for (const test of failed)
      found.push([`${name} > ${test.fullName}`, ...excerpt(test.failureMessages?.[0] ?? '', lines)]);
    if (failed.length === 0 && file.status === 'failed')
      found.push([name, ...excerpt(file.message ?? 'failed without a failed test', lines)]);
  }
  return found;
}

/** failuresOf() the report in `file`; undefined when the run wrote none (it did not get that far). */
export async function readFailures(file: string, root: string): Promise<string[][] | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : failuresOf(JSON.parse(text) as VitestReport, root);
}
