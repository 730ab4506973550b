// End to end: the pipec command's validate, build, graph and argument handling, run as a user runs them.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipec, REPO_ROOT } from '../support/cli.ts';

const BROKEN = `pipeline: broken
types:
  Order: { order_id: string, price: float, quantity: int, category: string, ts: timestamp }
sources:
  orders: { connector: file, path: orders.jsonl, type: Order, event_time: { field: ts } }
steps:
  - id: big
    from: orders
    filter: price * quantty > 100
  - id: by_category
    from: bigg
    key_by: category
  - id: revenue
    from: by_category
    window: { tumbling: 5 minutes }
    aggregate: { total: sum(price) }
sinks:
  out: { from: revenue, connector: stdout }
`;

function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'pipec-cli-'));
}

describe('pipec validate', () => {
  it('reports a misspelled field, a missing step and a malformed duration at once, each at its line and column', () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, 'broken.yaml'), BROKEN);
    const result = pipec(['validate', 'broken.yaml'], { cwd: directory });
    expect(result.status).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => / error PC\d{3} /.test(line));
    expect(errors).toEqual([
      expect.stringMatching(/^broken\.yaml:9:21 error PC301 unknown field `quantty`.*did you mean `quantity`\?/),
      expect.stringMatching(/^broken\.yaml:11:11 error PC201 `bigg` is not a source, step or named output; did you mean `big`\?/),
      expect.stringMatching(/^broken\.yaml:15:25 error PC105 steps\[2\]\.window\.tumbling: expected a duration like "5m", got "5 minutes"/),
    ]);
  });

  it('writes GitHub Actions annotations with --format github', () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, 'broken.yaml'), BROKEN);
    const result = pipec(['validate', '--format', 'github', 'broken.yaml'], { cwd: directory });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('::error file=broken.yaml,line=9,col=21,title=PC301::');
  });

  it('writes JSON with --format json', () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, 'broken.yaml'), BROKEN);
    const result = pipec(['validate', '--format', 'json', 'broken.yaml'], { cwd: directory });
    const diagnostics = JSON.parse(result.stdout) as { code: string; severity: string; line: number; column: number }[];
    expect(diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.line, d.column])).toEqual([['PC301', 9, 21], ['PC201', 11, 11], ['PC105', 15, 25]]);
  });

  it('passes the shipped pipelines', () => {
    const result = pipec(['validate', 'pipelines/revenue.yaml']);
    expect(result.stderr).not.toMatch(/ error /);
    expect(result.status).toBe(0);
  });
});

describe('pipec command line', () => {
  it.each([
    [['run', 'pipelines/revenue.yaml', '--parallelism', 'many'], /--parallelism takes a whole number ≥ 1, got "many"/],
    [['run', 'pipelines/revenue.yaml', '--param', 'threshold'], /expected name=value, got "threshold"/],
    [['run', 'pipelines/revenue.yaml', '--kafka-servers', 'localhost'], /--kafka-servers takes HOST:PORT\[,HOST:PORT…\], got "localhost" in "localhost"/],
    [['run', 'pipelines/revenue.yaml', '--kafka-servers', 'a:9092,b:99999'], /got "b:99999"/],
    [['run', 'pipelines/sessions.yaml', '--distributed'], /--distributed needs checkpoints, in a directory every member can reach: pass --checkpoint-dir/],
    [['validate'], /missing required argument 'spec'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['validate', 'no/such/file.yaml'], /no such spec file: no\/such\/file\.yaml/],
    [['graph', 'pipelines/revenue.yaml', '--format', 'png'], /argument 'png' is invalid/],
  ])('rejects %j with one line and exit code 2', (args, message) => {
    const result = pipec(args);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});

describe('pipec build', () => {
  it('writes the same bytes twice, and --check passes until the spec changes', () => {
    const directory = temporaryDirectory();
    cpSync(join(REPO_ROOT, 'pipelines'), join(directory, 'pipelines'), { recursive: true });
    const first = pipec(['build', 'pipelines/revenue.yaml', '--out-dir', join(directory, 'out'), '--bundle-dir', join(directory, 'dist')], { cwd: REPO_ROOT });
    expect(first.status).toBe(0);
    const once = readFileSync(join(directory, 'out', 'revenue.ts'), 'utf8');
    const second = pipec(['build', 'pipelines/revenue.yaml', '--out-dir', join(directory, 'out'), '--bundle-dir', join(directory, 'dist')], { cwd: REPO_ROOT });
    expect(second.status).toBe(0);
    expect(readFileSync(join(directory, 'out', 'revenue.ts'), 'utf8')).toBe(once);
    expect(once).toBe(readFileSync(join(REPO_ROOT, 'generated', 'revenue.ts'), 'utf8'));

    expect(pipec(['build', '--check', 'pipelines/revenue.yaml', '--out-dir', join(directory, 'out')]).status).toBe(0);
    const changed = join(directory, 'pipelines', 'revenue.yaml');
    writeFileSync(changed, readFileSync(changed, 'utf8').replace('default: 1000', 'default: 2000'));
    const stale = pipec(['build', '--check', changed, '--out-dir', join(directory, 'out')]);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/revenue\.ts is stale: run `pipec build/);
  });
});

describe('pipec build and state compatibility', () => {
  const spec = (aggregate: string, extra = '') => `pipeline: shop
types:
  Order: { order_id: string, category: string, price: float, quantity: int, ts: timestamp }
sources:
  orders: { connector: file, path: orders.jsonl, type: Order, event_time: { field: ts } }
steps:
  - id: revenue
    from: orders
    key_by: category
    window: { tumbling: 1m }
    aggregate:
      orders: count()
      total: ${aggregate}
${extra}sinks:
  out: { from: revenue, connector: stdout }
`;

  it('writes the state schema beside the module and fails with PC401, writing nothing, on a change that breaks checkpoints', () => {
    const directory = temporaryDirectory();
    const build = (text: string, ...flags: string[]) => {
      writeFileSync(join(directory, 'shop.yaml'), text);
      return pipec(['build', ...flags, 'shop.yaml', '--out-dir', 'out', '--bundle-dir', 'dist'], { cwd: directory });
    };
    const stateFile = join(directory, 'out', 'shop.state.json');
    const moduleFile = join(directory, 'out', 'shop.ts');

    expect(build(spec('sum(price * quantity)')).status).toBe(0);
    const written = readFileSync(stateFile, 'utf8');
    expect(JSON.parse(written)).toEqual({ revenue: { fields: { orders: 'count()', total: 'sum(float)' }, key: 'string', operator: 'tumbling', step: 'revenue' } });
    const module = readFileSync(moduleFile, 'utf8');

    const broken = build(spec('max(price * quantity)'));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain(
      'shop.yaml:13:14 error PC401 step `revenue` (state uid `revenue`): aggregate `total` changed from `sum(float)` to `max(float)`, so checkpoints taken before cannot be restored; give the step a new `uid` to start its state afresh, or declare `migrate: { reset: [total] }`',
    );
    expect(readFileSync(stateFile, 'utf8')).toBe(written);
    expect(readFileSync(moduleFile, 'utf8')).toBe(module);
    expect(build(spec('max(price * quantity)'), '--check').status).toBe(1);

    expect(build(spec('max(price * quantity)', '    migrate: { reset: [total] }\n')).status).toBe(0);
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).revenue).toMatchObject({ fields: { total: 'max(float)' }, reset: ['total'] });
    expect(readFileSync(moduleFile, 'utf8')).toContain("reset: ['total'],");
    expect(build(spec('max(price * quantity)', '    migrate: { reset: [total] }\n'), '--check').status).toBe(0);
  });

  it('builds an incompatible change under a new uid, whose state starts afresh', () => {
    const directory = temporaryDirectory();
    const build = (text: string) => {
      writeFileSync(join(directory, 'shop.yaml'), text);
      return pipec(['build', 'shop.yaml', '--out-dir', 'out', '--bundle-dir', 'dist'], { cwd: directory });
    };
    expect(build(spec('sum(price * quantity)')).status).toBe(0);
    const renamed = build(spec('max(price * quantity)', '    uid: revenue-v2\n'));
    expect(renamed.stderr).not.toMatch(/ error /);
    expect(renamed.status).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(join(directory, 'out', 'shop.state.json'), 'utf8')))).toEqual(['revenue-v2']);
    expect(readFileSync(join(directory, 'out', 'shop.ts'), 'utf8')).toContain("uid: 'revenue-v2',");
  });

  it('says what to do when the state schema it wrote is no longer JSON', () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory, 'shop.yaml'), spec('sum(price)'));
    mkdirSync(join(directory, 'out'));
    writeFileSync(join(directory, 'out', 'shop.state.json'), '{ "revenue": ');
    const result = pipec(['build', 'shop.yaml', '--out-dir', 'out', '--bundle-dir', 'dist'], { cwd: directory });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^pipec: out\/shop\.state\.json is not the JSON `pipec build` writes \(.*\): restore it from version control, or delete it to accept any change of state/);
  });
});

describe('pipec graph', () => {
  it('prints the revenue pipeline as Mermaid', () => {
    const result = pipec(['graph', 'pipelines/revenue.yaml', '--format', 'mermaid']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^flowchart LR\n/);
    expect(result.stdout).toContain('purchases --> by_category');
    expect(result.stdout).toContain('revenue -- late_orders --> sink_late_out');
  });
});
