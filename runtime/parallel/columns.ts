// Records cross worker threads as columns. Structured-cloning an array of records writes every record's field
// names again and rebuilds each object property by property on the other side: about 1 µs a record, as much as
// running it through the pipeline. The records of an exchange have one type, and generated code makes every record
// of a type with one object literal, so they have one shape: a batch is sent as one column per field instead
// (numbers in a Float64Array whose buffer is transferred, strings joined into one), and read back by a function
// made once per shape that builds each record with one object literal, as the generated decoders do.

/**
 * One field over a batch: `numbers` when every value is a number; `strings` when every value is a string without
 * NUL (joined by NUL: one string to copy instead of one per record); else the values as they are.
 */
export type Column =
  | { readonly kind: 'numbers'; readonly numbers: Float64Array }
  | { readonly kind: 'strings'; readonly joined: string }
  | { readonly kind: 'values'; readonly values: unknown[] };

/** A batch of records as columns, in the shape of its first record. */
export interface RecordColumns {
  /** The fields of the records: the first record's own keys, in order. */
  readonly fields: readonly string[];
  readonly count: number;
  readonly columns: readonly Column[];
}

const SEPARATOR = '\u0000';

export function toColumn(values: readonly unknown[]): Column {
  let numbers = true;
  let strings = true;
  for (const value of values) {
    if (typeof value !== 'number') numbers = false;
    if (typeof value !== 'string' || value.includes(SEPARATOR)) strings = false;
    if (!numbers && !strings) return { kind: 'values', values: values as unknown[] };
  }
  // An empty column is numbers: no value to say otherwise.
  if (numbers) return { kind: 'numbers', numbers: Float64Array.from(values as number[]) };
  return { kind: 'strings', joined: values.join(SEPARATOR) };
}

export function fromColumn(column: Column): ArrayLike<unknown> {
  switch (column.kind) {
    case 'numbers':
      return column.numbers;
    case 'strings':
      return column.joined.split(SEPARATOR);
    case 'values':
      return column.values;
  }
}

/**
 * The records as columns, in the shape of the first: generated code gives every record of an exchange (one type)
 * the same fields. Records of several types can meet in a sink: with `checkShapes`, every record is checked to have
 * just the first one's fields. Undefined when they are not such records (then they cross as they are).
 */
export function toColumns(records: readonly unknown[], checkShapes = false): RecordColumns | undefined {
  const first = records[0];
  if (typeof first !== 'object' || first === null || Array.isArray(first)) return undefined;
  const fields = Object.keys(first);
  // A literal's "__proto__" would set the prototype, not a field.
  if (fields.includes('__proto__')) return undefined;
  if (checkShapes && !records.every((record) => hasFields(record, fields))) return undefined;
  return { fields, count: records.length, columns: shapeOf(fields).columnsOf(records).map(toColumn) };
}

/** Whether `record` is an object whose own enumerable keys are exactly `fields`. */
function hasFields(record: unknown, fields: readonly string[]): boolean {
  if (typeof record !== 'object' || record === null) return false;
  let keys = 0;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) return false;
    keys++;
  }
  return keys === fields.length && fields.every((field) => Object.hasOwn(record, field));
}

/** The records back from their columns. */
export function fromColumns(records: RecordColumns): unknown[] {
  return shapeOf(records.fields).recordsOf(records.count, records.columns.map(fromColumn));
}

/** The buffers a message holding these columns can transfer instead of copying. */
export function transferablesOf(columns: readonly Column[]): ArrayBuffer[] {
  return columns.flatMap((column) => (column.kind === 'numbers' ? [column.numbers.buffer as ArrayBuffer] : []));
}

/** The functions of one shape, made once, with the field names written out: property reads the engine can cache. */
interface Shape {
  /** Per field, its values over the records. */
  readonly columnsOf: (records: readonly unknown[]) => unknown[][];
  /** The records back from per-field values: each built with one object literal. */
  readonly recordsOf: (count: number, columns: readonly ArrayLike<unknown>[]) => unknown[];
}

const shapes = new Map<string, Shape>();

function shapeOf(fields: readonly string[]): Shape {
  const id = JSON.stringify(fields);
  let shape = shapes.get(id);
  if (shape !== undefined) return shape;
  const names = fields.map((field) => JSON.stringify(field));
  const columnsOf = [
    'const count = records.length;',
    ...fields.map((_, k) => `const c${k} = new Array(count);`),
    'for (let i = 0; i < count; i++) {',
    '  const record = records[i];',
    ...names.map((name, k) => `  c${k}[i] = record[${name}];`),
    '}',
    `return [${fields.map((_, k) => `c${k}`).join(', ')}];`,
  ];
  const recordsOf = [
    ...fields.map((_, k) => `const c${k} = columns[${k}];`),
    'const records = new Array(count);',
    `for (let i = 0; i < count; i++) records[i] = { ${names.map((name, k) => `${name}: c${k}[i]`).join(', ')} };`,
    'return records;',
  ];
  shape = {
    columnsOf: new Function('records', columnsOf.join('\n')) as Shape['columnsOf'],
    recordsOf: new Function('count', 'columns', recordsOf.join('\n')) as Shape['recordsOf'],
  };
  shapes.set(id, shape);
  return shape;
}
