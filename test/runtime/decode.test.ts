// Tests of the field readers of generated decoders: every conversion rule, strict (JSON) and lenient (CSV).

import { describe, expect, it } from 'vitest';
import type { Decoder, RawRecord } from '../../runtime/api.ts';
import * as rt from '../../runtime/decode.ts';

const strict = () => new rt.RecordDecoder(false);
const lenient = () => new rt.RecordDecoder(true);

/** Reads `field` of `raw` with `reader` on a fresh decoder; returns the value and the error. */
function read<T>(reader: (raw: RawRecord, field: string, decoder: Decoder) => T, raw: RawRecord, decoder = strict()): { value: T; error: string | undefined } {
  const value = reader(raw, 'x', decoder);
  return { value, error: decoder.error };
}

const ok = <T>(value: T) => ({ value, error: undefined });

describe('RecordDecoder', () => {
  it('starts without an error, keeps lenient, and reset() clears the error', () => {
    const decoder = new rt.RecordDecoder();
    expect(decoder.lenient).toBe(false);
    expect(new rt.RecordDecoder(true).lenient).toBe(true);
    rt.readInt({}, 'x', decoder);
    expect(decoder.error).toBe("missing field 'x'");
    decoder.reset();
    expect(decoder.error).toBeUndefined();
  });

  it('keeps only the first error', () => {
    const decoder = strict();
    rt.readInt({ a: 'one' }, 'a', decoder);
    rt.readString({}, 'b', decoder);
    rt.readFloat({ c: 'x' }, 'c', decoder);
    expect(decoder.error).toBe(`field 'a': expected int, got "one"`);
  });
});

describe('strict readers (JSON)', () => {
  it('string', () => {
    expect(read(rt.readString, { x: 'abc' })).toEqual(ok('abc'));
    expect(read(rt.readString, { x: '' })).toEqual(ok(''));
    expect(read(rt.readString, { x: 5 })).toEqual({ value: '', error: "field 'x': expected string, got 5" });
    expect(read(rt.readString, {})).toEqual({ value: '', error: "missing field 'x'" });
    expect(read(rt.readString, { x: null })).toEqual({ value: '', error: "missing field 'x'" });
  });

  it('int: integers only', () => {
    expect(read(rt.readInt, { x: 42 })).toEqual(ok(42));
    expect(read(rt.readInt, { x: -3 })).toEqual(ok(-3));
    expect(read(rt.readInt, { x: 2.0 })).toEqual(ok(2));
    expect(read(rt.readInt, { x: 2.5 })).toEqual({ value: 0, error: "field 'x': expected int, got 2.5" });
    expect(read(rt.readInt, { x: 'abc' })).toEqual({ value: 0, error: `field 'x': expected int, got "abc"` });
    expect(read(rt.readInt, { x: '42' })).toEqual({ value: 0, error: `field 'x': expected int, got "42"` });
    expect(read(rt.readInt, { x: true })).toEqual({ value: 0, error: "field 'x': expected int, got true" });
    expect(read(rt.readInt, {})).toEqual({ value: 0, error: "missing field 'x'" });
    expect(read(rt.readInt, { x: null })).toEqual({ value: 0, error: "missing field 'x'" });
  });

  it('float: any finite number', () => {
    expect(read(rt.readFloat, { x: 2.5 })).toEqual(ok(2.5));
    expect(read(rt.readFloat, { x: 3 })).toEqual(ok(3));
    expect(read(rt.readFloat, { x: JSON.parse('1e999') })).toEqual({ value: 0, error: "field 'x': expected float, got Infinity" });
    expect(read(rt.readFloat, { x: '2.5' })).toEqual({ value: 0, error: `field 'x': expected float, got "2.5"` });
    expect(read(rt.readFloat, {})).toEqual({ value: 0, error: "missing field 'x'" });
  });

  it('bool', () => {
    expect(read(rt.readBool, { x: true })).toEqual(ok(true));
    expect(read(rt.readBool, { x: false })).toEqual(ok(false));
    expect(read(rt.readBool, { x: 'true' })).toEqual({ value: false, error: `field 'x': expected bool, got "true"` });
    expect(read(rt.readBool, { x: 1 })).toEqual({ value: false, error: "field 'x': expected bool, got 1" });
    expect(read(rt.readBool, { x: null })).toEqual({ value: false, error: "missing field 'x'" });
  });

  it('timestamp: epoch ms or an ISO-8601 string', () => {
    expect(read(rt.readTimestamp, { x: 1767225600000 })).toEqual(ok(1767225600000));
    expect(read(rt.readTimestamp, { x: '2026-01-01T00:00:00Z' })).toEqual(ok(Date.UTC(2026, 0, 1)));
    expect(read(rt.readTimestamp, { x: '2026-01-01T01:30:00.250+01:00' })).toEqual(ok(Date.UTC(2026, 0, 1, 0, 30, 0, 250)));
    expect(read(rt.readTimestamp, { x: '2026-03-15' })).toEqual(ok(Date.UTC(2026, 2, 15)));
    expect(read(rt.readTimestamp, { x: 'yesterday' })).toEqual({ value: 0, error: `field 'x': expected timestamp, got "yesterday"` });
    expect(read(rt.readTimestamp, { x: true })).toEqual({ value: 0, error: "field 'x': expected timestamp, got true" });
    expect(read(rt.readTimestamp, {})).toEqual({ value: 0, error: "missing field 'x'" });
  });

  it('timestamp: a date and time without a zone is UTC on every machine', () => {
    expect(read(rt.readTimestamp, { x: '2026-01-01T10:00:00' })).toEqual(ok(Date.UTC(2026, 0, 1, 10)));
    expect(read(rt.readTimestamp, { x: '2026-01-01 10:00:00.5' })).toEqual(ok(Date.UTC(2026, 0, 1, 10, 0, 0, 500)));
    expect(read(rt.readTimestamp, { x: '2026-01-01T10:00' })).toEqual(ok(Date.UTC(2026, 0, 1, 10)));
  });

  it('timestamp: a string of digits is epoch ms', () => {
    expect(read(rt.readTimestamp, { x: '1767225600000' })).toEqual(ok(1767225600000));
  });

  it('json: any value but null', () => {
    expect(read(rt.readJson, { x: { a: [1, 'b'] } })).toEqual(ok({ a: [1, 'b'] }));
    expect(read(rt.readJson, { x: 'text' })).toEqual(ok('text'));
    expect(read(rt.readJson, { x: 0 })).toEqual(ok(0));
    expect(read(rt.readJson, { x: null })).toEqual({ value: null, error: "missing field 'x'" });
  });

  it('long values are shortened in messages', () => {
    const { error } = read(rt.readInt, { x: 'y'.repeat(500) });
    expect(error).toBe(`field 'x': expected int, got "${'y'.repeat(59)}…`);
  });
});

describe('optional readers', () => {
  const cases = [
    ['string', rt.readOptionalString, 'a', 'a', 7],
    ['int', rt.readOptionalInt, 7, 7, 7.5],
    ['float', rt.readOptionalFloat, 7.5, 7.5, 'x'],
    ['bool', rt.readOptionalBool, true, true, 'true'],
    ['timestamp', rt.readOptionalTimestamp, '2026-01-01T00:00:00Z', Date.UTC(2026, 0, 1), 'never'],
  ] as const;
  for (const [type, reader, input, output, wrong] of cases) {
    it(`${type}?: missing or null is null; a value converts; a wrong type is an error`, () => {
      const readOptional = reader as (raw: RawRecord, field: string, decoder: Decoder) => unknown;
      expect(read(readOptional, {})).toEqual(ok(null));
      expect(read(readOptional, { x: null })).toEqual(ok(null));
      expect(read(readOptional, { x: input })).toEqual(ok(output));
      expect(read(readOptional, { x: wrong })).toEqual({ value: null, error: `field 'x': expected ${type}, got ${JSON.stringify(wrong)}` });
    });
  }

  it('json?: missing or null is null', () => {
    expect(read(rt.readOptionalJson, {})).toEqual(ok(null));
    expect(read(rt.readOptionalJson, { x: [1] })).toEqual(ok([1]));
  });

  it('a strict decoder keeps an empty string as a string', () => {
    expect(read(rt.readOptionalString, { x: '' })).toEqual(ok(''));
  });
});

describe('lenient readers (CSV)', () => {
  it('string: an empty cell is missing', () => {
    expect(read(rt.readString, { x: 'abc' }, lenient())).toEqual(ok('abc'));
    expect(read(rt.readString, { x: '' }, lenient())).toEqual({ value: '', error: "missing field 'x'" });
    expect(read(rt.readOptionalString, { x: '' }, lenient())).toEqual(ok(null));
  });

  it('int: a strict integer pattern', () => {
    expect(read(rt.readInt, { x: '42' }, lenient())).toEqual(ok(42));
    expect(read(rt.readInt, { x: '-7' }, lenient())).toEqual(ok(-7));
    expect(read(rt.readInt, { x: '+7' }, lenient())).toEqual(ok(7));
    expect(read(rt.readInt, { x: 12 }, lenient())).toEqual(ok(12));
    for (const wrong of ['2.5', '1e3', ' 4', '4 ', '0x10', 'abc', '--1']) {
      expect(read(rt.readInt, { x: wrong }, lenient())).toEqual({ value: 0, error: `field 'x': expected int, got ${JSON.stringify(wrong)}` });
    }
    expect(read(rt.readInt, { x: '' }, lenient())).toEqual({ value: 0, error: "missing field 'x'" });
    expect(read(rt.readOptionalInt, { x: '' }, lenient())).toEqual(ok(null));
  });

  it('float: a decimal number, finite', () => {
    expect(read(rt.readFloat, { x: '2.5' }, lenient())).toEqual(ok(2.5));
    expect(read(rt.readFloat, { x: '-0.25' }, lenient())).toEqual(ok(-0.25));
    expect(read(rt.readFloat, { x: '3' }, lenient())).toEqual(ok(3));
    expect(read(rt.readFloat, { x: '.5' }, lenient())).toEqual(ok(0.5));
    expect(read(rt.readFloat, { x: '1e3' }, lenient())).toEqual(ok(1000));
    for (const wrong of ['1e999', 'NaN', 'Infinity', 'abc', ' ', '1,5', '0x10']) {
      expect(read(rt.readFloat, { x: wrong }, lenient())).toEqual({ value: 0, error: `field 'x': expected float, got ${JSON.stringify(wrong)}` });
    }
    expect(read(rt.readFloat, { x: '' }, lenient())).toEqual({ value: 0, error: "missing field 'x'" });
    expect(read(rt.readOptionalFloat, { x: '' }, lenient())).toEqual(ok(null));
  });

  it('bool: true or false', () => {
    expect(read(rt.readBool, { x: 'true' }, lenient())).toEqual(ok(true));
    expect(read(rt.readBool, { x: 'false' }, lenient())).toEqual(ok(false));
    expect(read(rt.readBool, { x: 'yes' }, lenient())).toEqual({ value: false, error: `field 'x': expected bool, got "yes"` });
    expect(read(rt.readBool, { x: '' }, lenient())).toEqual({ value: false, error: "missing field 'x'" });
    expect(read(rt.readOptionalBool, { x: '' }, lenient())).toEqual(ok(null));
  });

  it('timestamp: digits are epoch ms, or ISO-8601', () => {
    expect(read(rt.readTimestamp, { x: '1767225600000' }, lenient())).toEqual(ok(1767225600000));
    expect(read(rt.readTimestamp, { x: '2026-01-01T00:00:01Z' }, lenient())).toEqual(ok(Date.UTC(2026, 0, 1, 0, 0, 1)));
    expect(read(rt.readTimestamp, { x: 'soon' }, lenient())).toEqual({ value: 0, error: `field 'x': expected timestamp, got "soon"` });
    expect(read(rt.readTimestamp, { x: '' }, lenient())).toEqual({ value: 0, error: "missing field 'x'" });
    expect(read(rt.readOptionalTimestamp, { x: '' }, lenient())).toEqual(ok(null));
  });

  it('json, lists, maps and records: a cell holds JSON text', () => {
    expect(read(rt.readJson, { x: '{"a":1}' }, lenient())).toEqual(ok({ a: 1 }));
    expect(read(rt.readJson, { x: 'not json' }, lenient())).toEqual({ value: null, error: `field 'x': expected json, got "not json"` });
    const decoder = lenient();
    expect(rt.readList({ tags: '["a","b"]' }, 'tags', decoder, rt.readStringElement)).toEqual(['a', 'b']);
    expect(rt.readMap({ prices: '{"EUR":"2.5"}' }, 'prices', decoder, rt.readFloatElement)).toEqual({ EUR: 2.5 });
    expect(decoder.error).toBeUndefined();
    expect(read((raw, field, d) => rt.readOptionalList(raw, field, d, rt.readIntElement), { x: '' }, lenient())).toEqual(ok(null));
  });
});

describe('lists', () => {
  const readInts = (raw: RawRecord, field: string, decoder: Decoder) => rt.readList(raw, field, decoder, rt.readIntElement);

  it('reads every element with the element reader', () => {
    expect(read(readInts, { x: [1, 2, 3] })).toEqual(ok([1, 2, 3]));
    expect(read(readInts, { x: [] })).toEqual(ok([]));
    expect(read((raw, field, d) => rt.readList(raw, field, d, rt.readStringElement), { x: ['a'] })).toEqual(ok(['a']));
    expect(read((raw, field, d) => rt.readList(raw, field, d, rt.readBoolElement), { x: [true, false] })).toEqual(ok([true, false]));
    expect(read((raw, field, d) => rt.readList(raw, field, d, rt.readFloatElement), { x: [1.5, 2] })).toEqual(ok([1.5, 2]));
    expect(read((raw, field, d) => rt.readList(raw, field, d, rt.readTimestampElement), { x: ['2026-01-01T00:00:00Z', 5] })).toEqual(ok([Date.UTC(2026, 0, 1), 5]));
    expect(read((raw, field, d) => rt.readList(raw, field, d, rt.readJsonElement), { x: [{ a: 1 }, null] })).toEqual(ok([{ a: 1 }, null]));
  });

  it('names the element that does not match', () => {
    expect(read(readInts, { x: [1, 'two', 3] }).error).toBe(`field 'x[1]': expected int, got "two"`);
    expect(read(readInts, { x: [1, null] }).error).toBe("field 'x[1]': expected int, got null");
    expect(read((raw, field, d) => rt.readList(raw, field, d, rt.readStringElement), { x: ['a', 1] }).error).toBe("field 'x[1]': expected string, got 1");
  });

  it('a value that is not a list is an error; missing is an error unless optional', () => {
    expect(read(readInts, { x: { a: 1 } })).toEqual({ value: [], error: `field 'x': expected list, got {"a":1}` });
    expect(read(readInts, { x: 'abc' })).toEqual({ value: [], error: `field 'x': expected list, got "abc"` });
    expect(read(readInts, {})).toEqual({ value: [], error: "missing field 'x'" });
    const readOptionalInts = (raw: RawRecord, field: string, decoder: Decoder) => rt.readOptionalList(raw, field, decoder, rt.readIntElement);
    expect(read(readOptionalInts, {})).toEqual(ok(null));
    expect(read(readOptionalInts, { x: null })).toEqual(ok(null));
    expect(read(readOptionalInts, { x: [4] })).toEqual(ok([4]));
  });

  it('optional elements stay null; nested lists name the inner element', () => {
    const optionalStrings = rt.optionalElement(rt.readStringElement);
    expect(read((raw, field, d) => rt.readList(raw, field, d, optionalStrings), { x: ['a', null] })).toEqual(ok(['a', null]));
    const nested = rt.listElement(rt.readIntElement);
    expect(read((raw, field, d) => rt.readList(raw, field, d, nested), { x: [[1], [2, 3]] })).toEqual(ok([[1], [2, 3]]));
    expect(read((raw, field, d) => rt.readList(raw, field, d, nested), { x: [[1], [2, 'z']] }).error).toBe(`field 'x[1][1]': expected int, got "z"`);
    expect(read((raw, field, d) => rt.readList(raw, field, d, nested), { x: [[1], 5] }).error).toBe("field 'x[1]': expected list, got 5");
  });
});

describe('maps', () => {
  const readFloats = (raw: RawRecord, field: string, decoder: Decoder) => rt.readMap(raw, field, decoder, rt.readFloatElement);

  it('reads every value with the element reader, keeping the keys', () => {
    expect(read(readFloats, { x: { EUR: 2.5, USD: 3 } })).toEqual(ok({ EUR: 2.5, USD: 3 }));
    expect(read(readFloats, { x: {} })).toEqual(ok({}));
  });

  it('names the value that does not match; a non-object is an error', () => {
    expect(read(readFloats, { x: { EUR: 'cheap' } }).error).toBe(`field 'x.EUR': expected float, got "cheap"`);
    expect(read(readFloats, { x: [1] })).toEqual({ value: {}, error: "field 'x': expected map, got [1]" });
    expect(read(readFloats, { x: null })).toEqual({ value: {}, error: "missing field 'x'" });
    const readOptionalFloats = (raw: RawRecord, field: string, decoder: Decoder) => rt.readOptionalMap(raw, field, decoder, rt.readFloatElement);
    expect(read(readOptionalFloats, {})).toEqual(ok(null));
    expect(read(readOptionalFloats, { x: { a: 1 } })).toEqual(ok({ a: 1 }));
  });

  it('maps of lists name the inner element', () => {
    const lists = rt.mapElement(rt.readStringElement);
    expect(read((raw, field, d) => rt.readList(raw, field, d, lists), { x: [{ a: 'b' }, { c: 1 }] }).error).toBe("field 'x[1].c': expected string, got 1");
  });
});

interface Address {
  street: string;
  zip: number | null;
}

function decodeAddress(raw: RawRecord, decoder: Decoder): Address {
  return { street: rt.readString(raw, 'street', decoder), zip: rt.readOptionalInt(raw, 'zip', decoder) };
}

describe('nested records', () => {
  const readAddress = (raw: RawRecord, field: string, decoder: Decoder) => rt.readRecord(raw, field, decoder, decodeAddress);

  it('decodes a nested record with its decoder', () => {
    expect(read(readAddress, { x: { street: 'Main St', zip: 12345 } })).toEqual(ok({ street: 'Main St', zip: 12345 }));
    expect(read(readAddress, { x: { street: 'Main St' } })).toEqual(ok({ street: 'Main St', zip: null }));
  });

  it("prefixes the nested record's error with the field", () => {
    expect(read(readAddress, { x: { zip: 1 } }).error).toBe("field 'x': missing field 'street'");
    expect(read(readAddress, { x: { street: 'a', zip: 'z' } }).error).toBe(`field 'x': field 'zip': expected int, got "z"`);
  });

  it('does not prefix an earlier error', () => {
    const decoder = strict();
    rt.readInt({}, 'first', decoder);
    rt.readRecord({ address: { zip: 1 } }, 'address', decoder, decodeAddress);
    expect(decoder.error).toBe("missing field 'first'");
  });

  it('a non-object is an error; missing is an error unless optional', () => {
    expect(read(readAddress, { x: 'Main St' })).toEqual({ value: null, error: `field 'x': expected record, got "Main St"` });
    expect(read(readAddress, { x: [] }).error).toBe('field \'x\': expected record, got []');
    expect(read(readAddress, {}).error).toBe("missing field 'x'");
    const readOptionalAddress = (raw: RawRecord, field: string, decoder: Decoder) => rt.readOptionalRecord(raw, field, decoder, decodeAddress);
    expect(read(readOptionalAddress, {})).toEqual(ok(null));
    expect(read(readOptionalAddress, { x: { street: 's' } })).toEqual(ok({ street: 's', zip: null }));
  });

  it('lists of records name the element', () => {
    const addresses = rt.recordElement(decodeAddress);
    const readAddresses = (raw: RawRecord, field: string, decoder: Decoder) => rt.readList(raw, field, decoder, addresses);
    expect(read(readAddresses, { x: [{ street: 'a' }, { street: 'b', zip: 2 }] })).toEqual(ok([{ street: 'a', zip: null }, { street: 'b', zip: 2 }]));
    expect(read(readAddresses, { x: [{ street: 'a' }, {}] }).error).toBe("field 'x[1]': missing field 'street'");
  });
});

describe('a generated decoder', () => {
  interface Order {
    order_id: string;
    quantity: number;
    price: number;
    ts: number;
    coupon: string | null;
    tags: string[];
    address: Address;
    extra: unknown;
  }

  // The shape the code generator emits (see the brief of runtime/decode.ts).
  function decodeOrder(raw: RawRecord, d: Decoder): Order {
    return {
      order_id: rt.readString(raw, 'order_id', d),
      quantity: rt.readInt(raw, 'quantity', d),
      price: rt.readFloat(raw, 'price', d),
      ts: rt.readTimestamp(raw, 'ts', d),
      coupon: rt.readOptionalString(raw, 'coupon', d),
      tags: rt.readList(raw, 'tags', d, rt.readStringElement),
      address: rt.readRecord(raw, 'address', d, decodeAddress),
      extra: rt.readJson(raw, 'extra', d),
    };
  }

  it('decodes a JSON line', () => {
    const decoder = strict();
    const raw = JSON.parse('{"order_id":"o-1","quantity":2,"price":9.99,"ts":"2026-01-01T00:00:00Z","tags":["gift"],"address":{"street":"Main"},"extra":{"k":[1]}}');
    expect(decodeOrder(raw, decoder)).toEqual({
      order_id: 'o-1', quantity: 2, price: 9.99, ts: Date.UTC(2026, 0, 1), coupon: null, tags: ['gift'], address: { street: 'Main', zip: null }, extra: { k: [1] },
    });
    expect(decoder.error).toBeUndefined();
  });

  it('decodes a CSV row', () => {
    const decoder = lenient();
    const raw = { order_id: 'o-2', quantity: '3', price: '1.5', ts: '1767225600000', coupon: '', tags: '["a"]', address: '{"street":"B","zip":"7"}', extra: '1' };
    expect(decodeOrder(raw, decoder)).toEqual({
      order_id: 'o-2', quantity: 3, price: 1.5, ts: 1767225600000, coupon: null, tags: ['a'], address: { street: 'B', zip: 7 }, extra: 1,
    });
    expect(decoder.error).toBeUndefined();
  });

  it('reports the first bad field', () => {
    const decoder = strict();
    decodeOrder({ order_id: 'o-3', quantity: 2.5, price: 'x', ts: 1, tags: [], address: {}, extra: 1 }, decoder);
    expect(decoder.error).toBe("field 'quantity': expected int, got 2.5");
  });
});
