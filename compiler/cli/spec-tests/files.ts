// Where spec tests live: `<name>.test.yaml` beside the spec `<name>.yaml` holds more of its test cases.

import { existsSync } from 'node:fs';

const TEST_FILE = /\.test\.ya?ml$/;

export function isTestFile(path: string): boolean {
  return TEST_FILE.test(path);
}

/** `pipelines/sessions.test.yaml` for `pipelines/sessions.yaml`. */
export function testFileOf(spec: string): string {
  return `${spec.replace(/\.ya?ml$/, '')}.test.yaml`;
}

/** The spec a test file sits beside (`pipelines/sessions.yaml` for `pipelines/sessions.test.yaml`, or `.yml`), or undefined for a spec. */
export function specOfTestFile(path: string): string | undefined {
  if (!isTestFile(path)) return undefined;
  const stem = path.replace(TEST_FILE, '');
  return existsSync(`${stem}.yml`) && !existsSync(`${stem}.yaml`) ? `${stem}.yml` : `${stem}.yaml`;
}

/** The specs that arguments name, each once, in the order given; a test file stands for the spec beside it. */
export function specsOf(targets: readonly string[]): string[] {
  const specs: string[] = [];
  for (const target of targets) {
    const spec = specOfTestFile(target) ?? target;
    if (!specs.includes(spec)) specs.push(spec);
  }
  return specs;
}
