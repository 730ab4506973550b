// End to end: the stateless steps and dedupe through `pipec run`, each output compared with plain JavaScript over
// the same input (not pipec's code): map, set, explode, split, union, dedupe, validate, and a CSV source.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pipec } from '../support/cli.ts';
import { seededRandom } from '../support/random.ts';

interface Event {
  id: string;
  user: string;
  amount: number;
  tags: string[];
  country: string | null;
  ts: number;
}

const START = Date.UTC(2026, 5, 1);

function makeEvents(): Event[] {
  const random = seededRandom(11);
  const events: Event[] = [];
  for (let i = 0; i < 3000; i++) {
    // Every fifth event repeats an earlier id a little later: dedupe drops it when within 1 minute.
    const repeat = i % 5 === 4;
    const id = repeat ? events[i - 3].id : `e${i}`;
    events.push({
      id,
      user: `u${Math.floor(random() * 40)}`,
      amount: Math.round(random() * 2000 - 200) / 10,
      tags: Array.from({ length: Math.floor(random() * 3) }, (_, t) => `t${(i + t) % 4}`),
      country: random() < 0.2 ? null : ['de', 'fr', 'us'][Math.floor(random() * 3)],
      ts: START + i * 1000 + (repeat ? 500 : 0),
    });
  }
  return events;
}

const SPEC = `pipeline: steps
types:
  Event: { id: string, user: string, amount: float, tags: list<string>, country: string?, ts: timestamp }
sources:
  events: { connector: file, path: events.jsonl, type: Event, event_time: { field: ts, max_out_of_orderness: 1s } }
steps:
  - id: unique
    from: events
    dedupe: { key: id, within: 1m }
  - id: checked
    from: unique
    validate:
      rules:
        positive: amount > 0
        has_country: country != null
      invalid_output: rejected
  - id: sized
    from: checked
    split:
      big: amount >= 100
      small: 'true'
  - id: big_marked
    from: sized.big
    set: { amount: 'round(amount * 1.1, 2)', label: "'big'" }
  - id: small_marked
    from: sized.small
    set: { label: "'small'" }
  - id: all_marked
    union: [big_marked, small_marked]
  - id: summary
    from: all_marked
    map: { id: id, who: upper(user), label: label, amount: amount, where: "coalesce(country, '??')" }
  - id: tagged
    from: events
    explode: tags
sinks:
  summary_out: { from: summary, connector: file, path: summary.jsonl }
  rejected_out: { from: rejected, connector: file, path: rejected.jsonl }
  tags_out: { from: tagged, connector: file, path: tags.jsonl }
`;

function read(directory: string, name: string): Record<string, unknown>[] {
  const text = readFileSync(join(directory, name), 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const sorted = (rows: readonly unknown[]) => rows.map((row) => JSON.stringify(row)).sort();

describe('stateless steps and dedupe through pipec run', () => {
  const directory = mkdtempSync(join(tmpdir(), 'pipec-steps-'));
  const events = makeEvents();

  // The expected outputs, by plain JavaScript.
  const seen = new Map<string, number>();
  const unique = events.filter((event) => {
    const kept = seen.get(event.id);
    if (kept !== undefined && Math.abs(event.ts - kept) < 60_000) return false;
    seen.set(event.id, event.ts);
    return true;
  });
  const failed = (event: Event) => [...(event.amount > 0 ? [] : ['positive']), ...(event.country !== null ? [] : ['has_country'])];
  const valid = unique.filter((event) => failed(event).length === 0);
  const roundHalfAway = (value: number) => Math.sign(value) * Math.round(Math.abs(value) * 100) / 100;

  beforeAll(() => {
    writeFileSync(join(directory, 'events.jsonl'), events.map((event) => JSON.stringify(event)).join('\n') + '\n');
    writeFileSync(join(directory, 'steps.yaml'), SPEC);
    const result = pipec(['run', 'steps.yaml', '--output-path', directory], { cwd: directory });
    expect(result.stderr).toContain('stopped by end of input');
    expect(result.status).toBe(0);
  });

  it('dedupes, validates, splits, sets, unions and maps', () => {
    const expected = valid.map((event) => ({
      id: event.id,
      who: event.user.toUpperCase(),
      label: event.amount >= 100 ? 'big' : 'small',
      // set replaced the amount of big events in place.
      amount: event.amount >= 100 ? roundHalfAway(event.amount * 1.1) : event.amount,
      where: event.country ?? '??',
    }));
    expect(sorted(read(directory, 'summary.jsonl'))).toEqual(sorted(expected));
    expect(expected.length).toBeGreaterThan(1000);
    expect(unique.length).toBeLessThan(events.length);
  });

  it('sends records failing a rule to the invalid output with the names of the rules they failed', () => {
    const expected = unique.filter((event) => failed(event).length > 0).map((event) => ({ ...event, failed_rules: failed(event) }));
    expect(sorted(read(directory, 'rejected.jsonl'))).toEqual(sorted(expected));
    expect(expected.some((event) => event.failed_rules.length === 2)).toBe(true);
  });

  it('explodes a list into one record per element', () => {
    const expected = events.flatMap((event) => event.tags.map((tag) => ({ ...event, tags: tag })));
    expect(sorted(read(directory, 'tags.jsonl'))).toEqual(sorted(expected));
  });
});

describe('a CSV source', () => {
  it('reads quoted fields and converts cells to the declared types', () => {
    const directory = mkdtempSync(join(tmpdir(), 'pipec-csv-'));
    writeFileSync(join(directory, 'rows.csv'), 'name,qty,price,ok\n"Smith, J",3,2.5,true\nplain,x,1,false\n"say ""hi""",7,0.25,false\n');
    writeFileSync(join(directory, 'csv.yaml'), `pipeline: csv
types:
  Row: { name: string, qty: int, price: float, ok: bool }
sources:
  rows: { connector: file, path: rows.csv, format: csv, type: Row, dead_letter: bad }
steps:
  - { id: priced, from: rows, map: { name: name, total: qty * price, ok: ok } }
sinks:
  out: { from: priced, connector: file, path: out.jsonl }
  bad_out: { from: bad, connector: file, path: bad.jsonl }
`);
    const result = pipec(['run', 'csv.yaml', '--output-path', directory], { cwd: directory });
    expect(result.status).toBe(0);
    expect(read(directory, 'out.jsonl')).toEqual([
      { name: 'Smith, J', total: 7.5, ok: true },
      { name: 'say "hi"', total: 1.75, ok: false },
    ]);
    expect(read(directory, 'bad.jsonl').map((row) => [row.position, row.error])).toEqual([['rows.csv:3', `field 'qty': expected int, got "x"`]]);
  });
});
