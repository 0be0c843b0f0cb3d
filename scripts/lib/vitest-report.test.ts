import { describe, expect, it } from 'vitest';
import { failuresOf, type VitestReport } from './vitest-report.ts';

describe('the failures of a vitest JSON report', () => {
  const report: VitestReport = {
    testResults: [
      {
        name: '/repo/test/a.test.ts',
        status: 'failed',
        assertionResults: [
          { fullName: 'a passes', status: 'passed', failureMessages: [] },
          {
            fullName: 'a fails',
            status: 'failed',
            failureMessages: [
              '\u001b[31mAssertionError\u001b[39m: expected 1 to be 2\n\n- Expected\n+ Received\n\n- 2\n+ 1\n    at file:///repo/node_modules/x.js:1:1\n    at /repo/test/a.test.ts:9:5\n    at /repo/test/a.test.ts:3:1',
            ],
          },
        ],
      },
      {
        name: '/repo/test/b.test.ts',
        status: 'passed',
        assertionResults: [{ fullName: 'b', status: 'passed' }],
      },
      {
        name: '/repo/test/c.test.ts',
        status: 'failed',
        message: 'Hook timed out in 10000ms.',
        assertionResults: [{ fullName: 'c', status: 'skipped' }],
      },
    ],
  };

  it('names each failed test with the first lines of its message, colours removed, the first frame of ours, and each file that failed on its own', () => {
    expect(failuresOf(report, '/repo', 3)).toEqual([
      [
        'test/a.test.ts > a fails',
        'AssertionError: expected 1 to be 2',
        '- Expected',
        '+ Received',
        'at /repo/test/a.test.ts:9:5',
      ],
      ['test/c.test.ts', 'Hook timed out in 10000ms.'],
    ]);
  });

  it('is empty for a run that passed', () => {
    expect(
      failuresOf({ testResults: [report.testResults[1] as VitestReport['testResults'][0]] }, '/repo'),
    ).toEqual([]);
  });
});
