import type { Reporter, TestCase, TestModule } from 'vitest/node';

/**
 * Lists, after a run, every test that was skipped with a reason (see
 * describeWhere, the only way tests here are skipped), so a leg that could not run on this machine is named in
 * the output rather than hidden in a "skipped" count.
 */
export class NotRunReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines = modules.flatMap((module) => [...module.children.allTests()].flatMap((test) => describeNotRun(module, test)));
    if (lines.length === 0) return;
    process.stdout.write(`\nNot run on this machine (${lines.length}):\n${lines.map((line) => `  - ${line}\n`).join('')}\n`);
  }
}

function describeNotRun(module: TestModule, test: TestCase): string[] {
  const result = test.result();
  // Tests left out by a name filter, or after a failed hook, have no note.
  if (result.state !== 'skipped' || result.note === undefined) return [];
  return [`${module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}: ${result.note}`];
}
