// The benchmark's interpreter against the compiled job on specs that use every step kind, expression form and
// aggregate: both run through the runtime's runJob on the same input and must write the same bytes to every sink.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.ts';
import { bundle } from '../../compiler/bundle/index.ts';
import { runJob, type JobDefinition, type RunOptions, type RunSummary } from '../../runtime/index.ts';
import { interpretJob } from '../../bench/interpreter.ts';
import { typedPipelineFromJson, typedPipelineToJson } from '../../bench/ir-json.ts';

const directories: string[] = [];

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

interface Outputs {
  readonly compiled: Readonly<Record<string, string>>;
  readonly interpreted: Readonly<Record<string, string>>;
}

function readOutputs(directory: string): Record<string, string> {
  return Object.fromEntries(readdirSync(directory).sort().map((file) => [file, readFileSync(join(directory, file), 'utf8')]));
}

/** Compiles and bundles `spec` as `pipec build` does, then runs the bundle and the interpreter on the same input. */
async function runBoth(spec: string, inputs: Readonly<Record<string, string>>): Promise<Outputs> {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-interpreter-'));
  directories.push(directory);
  for (const [file, text] of Object.entries(inputs)) writeFileSync(join(directory, file), text);
  const specPath = join(directory, 'spec.yaml');
  writeFileSync(specPath, spec);
  const result = compile(spec, { specPath, verify: false, moduleDir: directory });
  expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.location?.line} ${d.code} ${d.message}`)).toEqual([]);
  writeFileSync(result.moduleFile!, result.output!.code);
  const bundleFile = join(directory, 'job.mjs');
  await bundle({ modulePath: result.moduleFile!, outFile: bundleFile });
  const loaded = (await import(pathToFileURL(bundleFile).href)) as {
    default: JobDefinition;
    runJob: (job: JobDefinition, options: RunOptions) => Promise<RunSummary>;
  };
  const options = (output: string): RunOptions => ({
    parallelism: 1,
    maxParallelism: 128,
    maxRecords: 0,
    durationMs: 0,
    cwd: directory,
    outputPath: join(directory, output),
    log: () => {},
    batchSize: 256,
  });
  await loaded.runJob(loaded.default, options('compiled'));
  // Through JSON, as the benchmark hands the IR to its child processes.
  await runJob(interpretJob(typedPipelineFromJson(typedPipelineToJson(result.typed!))), options('interpreted'));
  return { compiled: readOutputs(join(directory, 'compiled')), interpreted: readOutputs(join(directory, 'interpreted')) };
}

const lineCount = (text: string | undefined) => (text === undefined || text === '' ? 0 : text.trimEnd().split('\n').length);

/** A deterministic pseudo-random sequence (a 32-bit LCG), so the input is the same on every run. */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function eventsFile(): string {
  const next = sequence(11);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)];
  const lines: string[] = [];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 1500; i++) {
    const event: Record<string, unknown> = {
      // Every tenth id repeats an earlier one, for dedupe.
      id: i % 10 === 9 ? `e-${i - 1 - Math.floor(next() * 5)}` : `e-${i}`,
      user: pick(['ada', 'ben', 'chloe', 'dmitri', 'a', 'b']),
      amount: Math.round((next() * 300 - 20) * 100) / 100,
      tags: [pick(['sale', 'promo-spring', 'new', 'a']), ...(next() < 0.5 ? [pick(['sale', 'old'])] : [])],
      ts: start + i * 1000 - Math.floor(next() * 3000),
    };
    if (next() < 0.8) event.country = pick(['DE', 'FR', 'US']);
    const attributes = next();
    if (attributes < 0.4) event.attributes = { plan: pick(['pro', 'free']), tier: Math.floor(next() * 3) };
    else if (attributes < 0.5) event.attributes = null;
    else if (attributes < 0.6) event.attributes = [1, 2];
    else if (attributes < 0.7) event.attributes = 'text';
    lines.push(JSON.stringify(event));
    if (i % 200 === 100) lines.push('{"id": "broken"');
    if (i % 300 === 150) lines.push(JSON.stringify({ ...event, amount: 'lots' }));
  }
  return lines.join('\n') + '\n';
}

describe('the benchmark interpreter', () => {
  it('writes what the compiled job writes for stateless steps, dedupe, validate and dead letters', async () => {
    const spec = `
pipeline: interpreted_steps
types:
  Event: { id: string, user: string, amount: float, country: string?, tags: list<string>, attributes: json?, ts: timestamp }
sources:
  events:
    connector: file
    path: events.jsonl
    type: Event
    event_time: { field: ts, max_out_of_orderness: 1s }
    dead_letter: unreadable
steps:
  - id: unique
    from: events
    dedupe: { key: id, within: 1m }
  - id: checked
    from: unique
    validate:
      rules:
        positive: amount > 0
        known_country: country != null
      invalid_output: rejected
  - id: enriched
    from: checked
    set:
      amount: round(amount * 1.2, 2)
      label: "concat(upper(user), '-', coalesce(country, '??'))"
      big: amount >= 100
  - id: per_tag
    from: enriched
    explode: tags
  - id: routed
    from: per_tag
    split:
      sale: "tags == 'sale' || starts_with(tags, 'promo')"
      other: 'true'
  - id: projected
    from: routed.sale
    map:
      user: user
      tag: tags
      plan: "json_get(attributes, 'plan') ?? 'none'"
      tier: attributes.tier
      json_length: attributes.length
      first_item: attributes[0]
      hour: hour(ts)
      text: "\`\${user}:\${amount % 7}\`"
      size: "big ? 'big' : 'small'"
      short_name: "contains(['a', 'b'], user)"
      parts: "split(label, '-')"
      length: len(label)
      bounded: max(min(amount, 200), 10)
  - id: merged
    union: [routed.other, routed.sale]
  - id: by_user_country
    from: merged
    key_by: [user, country]
  - id: totals
    from: by_user_country
    window: { tumbling: 5m }
    aggregate:
      records: count()
      with_country: count(country)
      amount: sum(amount)
      tags: collect(tags)
      first_label: first(label)
sinks:
  projected_out: { from: projected, connector: file, path: projected.jsonl }
  merged_out: { from: merged, connector: file, path: merged.jsonl }
  totals_out: { from: totals, connector: file, path: totals.jsonl }
  rejected_out: { from: rejected, connector: file, path: rejected.jsonl }
  unreadable_out: { from: unreadable, connector: file, path: unreadable.jsonl }
`;
    const outputs = await runBoth(spec, { 'events.jsonl': eventsFile() });
    expect(Object.keys(outputs.interpreted)).toEqual(['merged.jsonl', 'projected.jsonl', 'rejected.jsonl', 'totals.jsonl', 'unreadable.jsonl']);
    for (const file of Object.keys(outputs.compiled)) expect(lineCount(outputs.compiled[file]), file).toBeGreaterThan(0);
    // 7 unparsable lines (i = 100, 300, …, 1300) and 5 with a wrong type (i = 150, 450, …, 1350).
    expect(lineCount(outputs.compiled['unreadable.jsonl'])).toBe(12);
    expect(outputs.interpreted).toEqual(outputs.compiled);
  });

  it('writes what the compiled job writes for every window kind and aggregate, with late records', async () => {
    const spec = `
pipeline: interpreted_windows
types:
  Order: { user_id: string, category: string, price: float, quantity: int, coupon: string?, ts: timestamp }
sources:
  orders:
    connector: generator
    type: Order
    generator: { dataset: orders, seed: 3, count: 4000, interval: 2s, out_of_order: 0.3, max_lateness: 3m }
    event_time: { field: ts, max_out_of_orderness: 5s, idle_timeout: 1m }
steps:
  - id: per_user_category
    from: orders
    key_by: [user_id, category]
    window: { tumbling: 10m, offset: 3m, allowed_lateness: 1m, late_output: late }
    aggregate:
      spend: sum(price * quantity)
      items: sum(quantity)
      cheapest: min(price)
      priciest: max(price)
      average: avg(price)
      first_category: first(category)
      last_price: last(price)
      prices: collect(price)
      spread: stddev(price)
      p95: percentile(price, 0.95)
      coupons: count(coupon)
      users: count_distinct(user_id)
  - id: by_category
    from: orders
    key_by: category
  - id: sliding_spend
    from: by_category
    window: { sliding: { size: 30m, slide: 10m }, allowed_lateness: 30s }
    aggregate: { spend: sum(price * quantity), orders: count(), last_coupon: last(coupon) }
  - id: sessions
    from: by_category
    window: { session: { gap: 5s }, allowed_lateness: 2m }
    aggregate: { events: count(), first_seen: min(ts), last_seen: max(ts) }
  - id: every_ten
    from: by_category
    window: { global: { trigger: { count: 10 }, evictor: { count: 5 } } }
    aggregate: { average: avg(price), prices: collect(price) }
  - id: latest
    from: by_category
    window: { global: { trigger: { event_time: true }, evictor: { time: 10m } } }
    aggregate: { orders: count() }
  - id: whole_stream
    from: orders
    window: { tumbling: 5m }
    aggregate: { orders: count(), users: count_distinct(user_id) }
  - id: hourly
    from: whole_stream
    window: { tumbling: 1h }
    aggregate: { orders: sum(orders), busiest: max(orders) }
sinks:
  a: { from: per_user_category, connector: file, path: per_user_category.jsonl }
  b: { from: sliding_spend, connector: file, path: sliding.jsonl }
  c: { from: sessions, connector: file, path: sessions.jsonl }
  d: { from: every_ten, connector: file, path: every_ten.jsonl }
  e: { from: latest, connector: file, path: latest.jsonl }
  f: { from: hourly, connector: file, path: hourly.jsonl }
  g: { from: late, connector: file, path: late.jsonl }
`;
    const outputs = await runBoth(spec, {});
    for (const file of Object.keys(outputs.compiled)) expect(lineCount(outputs.compiled[file]), file).toBeGreaterThan(0);
    expect(Object.keys(outputs.interpreted)).toEqual(Object.keys(outputs.compiled));
    expect(outputs.interpreted).toEqual(outputs.compiled);
  });
});
