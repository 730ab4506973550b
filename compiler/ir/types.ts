// The record and value types of the spec language (DESIGN §4.1), shared by every phase.

export type PrimitiveName = 'string' | 'int' | 'float' | 'bool' | 'timestamp' | 'json';

export type Type =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'list'; readonly element: Type }
  | { readonly kind: 'map'; readonly value: Type }
  | RecordType
  /** The type of the `null` literal; joins with any T into T?. */
  | { readonly kind: 'null' };

export interface Field {
  readonly name: string;
  readonly type: Type;
  /** `T?` in the spec: the field may be missing or null. */
  readonly optional: boolean;
}

export interface RecordType {
  readonly kind: 'record';
  /** The declared name (`Order`), or a name derived from the step that produces it (`Revenue`). */
  readonly name: string;
  readonly fields: readonly Field[];
}

export const primitive = (name: PrimitiveName): Type => ({ kind: 'primitive', name });

export const STRING = primitive('string');
export const INT = primitive('int');
export const FLOAT = primitive('float');
export const BOOL = primitive('bool');
export const TIMESTAMP = primitive('timestamp');
export const JSON_TYPE = primitive('json');
export const NULL: Type = { kind: 'null' };

export function isNumeric(type: Type): boolean {
  return type.kind === 'primitive' && (type.name === 'int' || type.name === 'float' || type.name === 'timestamp');
}

export function fieldOf(record: RecordType, name: string): Field | undefined {
  return record.fields.find((field) => field.name === name);
}

/** Spec spelling of a type: `list<string>`, `Order`, `float`. */
export function typeToString(type: Type): string {
  switch (type.kind) {
    case 'primitive':
      return type.name;
    case 'list':
      return `list<${typeToString(type.element)}>`;
    case 'map':
      return `map<${typeToString(type.value)}>`;
    case 'record':
      return type.name;
    case 'null':
      return 'null';
  }
}

/** Structural equality: records are the same when their fields are, whatever their names. */
export function sameType(a: Type, b: Type): boolean {
  switch (a.kind) {
    case 'record':
      return b.kind === 'record' && sameFields(a, b);
    case 'list':
      return b.kind === 'list' && sameType(a.element, b.element);
    case 'map':
      return b.kind === 'map' && sameType(a.value, b.value);
    case 'primitive':
    case 'null':
      return typeToString(a) === typeToString(b);
  }
}

function sameFields(a: RecordType, b: RecordType): boolean {
  return (
    a.fields.length === b.fields.length &&
    a.fields.every((field, i) => field.name === b.fields[i].name && field.optional === b.fields[i].optional && sameType(field.type, b.fields[i].type))
  );
}

export function isPrimitive(type: Type, name: PrimitiveName): boolean {
  return type.kind === 'primitive' && type.name === name;
}
