// Phase 1, load: YAML text → the spec as plain data with parameters substituted, plus the way back from a path in it to the file.

import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Scalar, type Node, type Pair, type YAMLError } from 'yaml';
import { diagnostic, suggestion } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { SourceText } from '../ir/source.ts';
import type { SpecPath } from './describe.ts';
import {
  convertParam,
  findMaskedReferences,
  findParamReferences,
  isParamType,
  maskParamReferences,
  unmaskReference,
  type ParamReference,
  type ParamType,
  type ParamValue,
} from './params.ts';
import { alignScalar, contentStart } from './scalar-offsets.ts';

export { describeValue, formatPath, type SpecPath } from './describe.ts';
export type { ParamValue } from './params.ts';

export interface LoadedSpec {
  readonly source: SourceText;
  /** The spec as plain data after parameter substitution; undefined when the YAML could not be parsed. */
  readonly value: unknown;
  /** Parameter values in effect: declared defaults overridden by --param; int and float as numbers, bool as booleans, durations as written ("1m"). */
  readonly params: Readonly<Record<string, ParamValue>>;
  /**
   * Offset in the file of the YAML node at `path` (e.g. ['steps', 2, 'window', 'tumbling']); `part: 'key'` gives the
   * offset of the map key instead of the value. Falls back to the nearest ancestor that exists.
   */
  offsetOf(path: SpecPath, part?: 'key' | 'value'): number;
  /**
   * For a string scalar at `path`: offset of the first character of its content (after an opening quote; for block
   * scalars, the first content line), so that an offset inside an expression's text maps to the file.
   */
  contentOffset(path: SpecPath): number;
  /**
   * For a string scalar at `path`: the file offset of character `index` of its value as `value` holds it. Unlike
   * `contentOffset(path) + index` it stays right past escapes, folded or indented lines of block scalars and
   * substituted `${params.NAME}` (a character of a substituted value maps to the reference's `$`).
   */
  offsetInText(path: SpecPath, index: number): number;
  readonly diagnostics: readonly Diagnostic[];
}

export function loadSpec(text: string, path: string, overrides: Readonly<Record<string, string>> = {}): LoadedSpec {
  return new SpecLoader({ path, text }, overrides);
}

/** A string scalar whose text held `${params.NAME}`: what was parsed, the text as written, and where each stretch of the new value came from. */
interface Substitution {
  /** The value parsed from the masked text (same length as `written`). */
  readonly parsed: string;
  /** The value as the user wrote it, with `${params.NAME}` in place. */
  readonly written: string;
  /** Where the references are in `written`. */
  readonly references: readonly ParamReference[];
  /** How the final value maps to `written`; empty while nothing was substituted. */
  segments: readonly Segment[];
}

interface Segment {
  readonly valueStart: number;
  readonly writtenStart: number;
  readonly length: number;
  /** Copied text maps character by character; a substituted value maps wholly to its reference. */
  readonly copied: boolean;
}

interface Declaration {
  readonly name: string;
  readonly type: ParamType | undefined;
  /** The default, converted to the type. */
  readonly fallback: ParamValue | undefined;
}

interface Found {
  /** The node at the path, or at the deepest part of it that exists. */
  readonly node: Node | null;
  /** The key of `node` when it is the value of a map entry. */
  readonly key: Node | null;
}

class SpecLoader implements LoadedSpec {
  readonly value: unknown;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly diagnostics: readonly Diagnostic[];

  /** The text the YAML parser read: the source with parameter references masked, offsets unchanged. */
  private readonly parsedText: string;
  private readonly document: Document.Parsed;
  private readonly reported: Diagnostic[] = [];
  private readonly substitutions = new Map<Scalar, Substitution>();
  private readonly alignments = new Map<Scalar, number[]>();
  /** Parameters already reported (a bad default or --param, or no value): their references get no more diagnostics. */
  private readonly badParams = new Set<string>();

  constructor(
    readonly source: SourceText,
    overrides: Readonly<Record<string, string>>,
  ) {
    const masked = maskParamReferences(source.text);
    this.parsedText = masked.text;
    this.document = parseDocument(masked.text, { prettyErrors: false, merge: true, uniqueKeys: true });
    for (const problem of [...this.document.errors, ...this.document.warnings]) {
      this.report(problemOffset(problem, this.document), 'PC101', { detail: yamlDetail(problem, this.document) });
    }
    if (this.document.errors.length > 0) {
      this.value = undefined;
      this.params = {};
    } else {
      this.unmask(masked.starts);
      const declarations = this.declarations();
      const params = this.paramValues(declarations, overrides);
      this.params = params;
      this.substitute(declarations, params);
      this.value = this.toPlainData();
    }
    this.diagnostics = this.reported.sort(byPosition);
  }

  offsetOf(path: SpecPath, part: 'key' | 'value' = 'value'): number {
    const found = this.find(path);
    if (part === 'key' && found.key?.range) return found.key.range[0];
    if (found.node?.range) return found.node.range[0];
    return found.key?.range?.[0] ?? 0;
  }

  contentOffset(path: SpecPath): number {
    const scalar = this.scalarAt(path);
    return scalar ? contentStart(this.parsedText, scalar) : this.offsetOf(path);
  }

  offsetInText(path: SpecPath, index: number): number {
    const scalar = this.scalarAt(path);
    if (!scalar) return this.offsetOf(path);
    const substitution = this.substitutions.get(scalar);
    if (!substitution && typeof scalar.value !== 'string') return this.offsetOf(path);
    const writtenIndex = substitution ? writtenIndexOf(substitution, index) : index;
    const offsets = this.alignment(scalar);
    return offsets[Math.max(0, Math.min(writtenIndex, offsets.length - 1))];
  }

// ---- finding nodes

  private find(path: SpecPath): Found {
    let node: Node | null = this.document.contents;
    let key: Node | null = null;
    for (const segment of path) {
      const next = this.child(node, segment);
      if (!next) break;
      node = next.node;
      key = next.key;
    }
    return { node, key };
  }

  private child(parent: Node | null, segment: string | number): Found | undefined {
    const container = this.dereference(parent);
    if (isSeq(container)) {
      const index = Number(segment);
      const item = Number.isInteger(index) ? container.items[index] : undefined;
      return item === undefined ? undefined : { node: item as Node | null, key: null };
    }
    if (isMap(container)) {
      const pair = this.pairOf(container.items as Pair[], String(segment), 0);
      return pair ? { node: pair.value as Node | null, key: pair.key as Node } : undefined;
    }
    return undefined;
  }

  /** The entry for `name` in a map: its own keys first, then those merged in with `<<`, earlier merges first. */
  private pairOf(pairs: readonly Pair[], name: string, depth: number): Pair | undefined {
    const own = pairs.find((pair) => keyName(pair.key) === name);
    if (own || depth > 16) return own;
    for (const pair of pairs) {
      if (!isMergeKey(pair.key)) continue;
      const merged = this.dereference(pair.value as Node | null);
      const sources = isSeq(merged) ? merged.items.map((item) => this.dereference(item as Node | null)) : [merged];
      for (const mergedMap of sources) {
        if (!isMap(mergedMap)) continue;
        const found = this.pairOf(mergedMap.items as Pair[], name, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }

  private dereference(node: Node | null): Node | null {
    let current = node;
    for (let hops = 0; isAlias(current) && hops < 64; hops++) current = current.resolve(this.document) ?? null;
    return current;
  }

  private scalarAt(path: SpecPath): Scalar | undefined {
    const found = this.find(path);
    const node = this.dereference(found.node);
    return isScalar(node) ? node : undefined;
  }

  /** Offsets in the file of each character of a string scalar as parsed (masked and written text have the same length). */
  private alignment(scalar: Scalar): number[] {
    let offsets = this.alignments.get(scalar);
    if (!offsets) {
      const parsed = this.substitutions.get(scalar)?.parsed ?? (typeof scalar.value === 'string' ? scalar.value : '');
      offsets = alignScalar(this.parsedText, scalar, parsed);
      this.alignments.set(scalar, offsets);
    }
    return offsets;
  }

  /** Put `${params.NAME}` back into every string the masking touched, keys and `params:` included. */
  private unmask(starts: ReadonlySet<number>): void {
    if (starts.size === 0) return;
    visit(this.document, {
      Scalar: (_, scalar) => {
        if (typeof scalar.value !== 'string') return;
        const parsed = scalar.value;
        const candidates = findMaskedReferences(parsed);
        if (candidates.length === 0) return;
        this.substitutions.set(scalar, { parsed, written: parsed, references: [], segments: [] });
        const offsets = this.alignment(scalar);
        // A `$(params.x)` the user wrote as such stays; only the masked ones become references again.
        const masked = candidates.filter((candidate) => starts.has(offsets[candidate.start]));
        if (masked.length === 0) {
          this.substitutions.delete(scalar);
          return;
        }
        let written = '';
        let copied = 0;
        for (const reference of masked) {
          written += parsed.slice(copied, reference.start) + unmaskReference(parsed.slice(reference.start, reference.end));
          copied = reference.end;
        }
        written += parsed.slice(copied);
        this.substitutions.set(scalar, { parsed, written, references: findParamReferences(written), segments: [] });
        scalar.value = written;
      },
    });
  }

  // ---- parameters

  private paramsNode(): Pair | undefined {
    const root = this.document.contents;
    return isMap(root) ? (root.items as Pair[]).find((pair) => keyName(pair.key) === 'params') : undefined;
  }

  /** Declared parameters and their defaults; a default that is not of the declared type is reported here. */
  private declarations(): Map<string, Declaration> {
    const declarations = new Map<string, Declaration>();
    const declared = this.dereference((this.paramsNode()?.value as Node | null) ?? null);
    if (!isMap(declared)) return declarations;
    for (const pair of declared.items as Pair[]) {
      const name = keyName(pair.key);
      if (name === undefined) continue;
      const keyOffset = (pair.key as Node).range?.[0] ?? 0;
      const body = this.dereference(pair.value as Node | null);
      // The schema reports a declaration of the wrong shape; here it only has to declare the name.
      const typeNode = isMap(body) ? this.dereference(body.get('type', true) ?? null) : null;
      const typeName = isScalar(typeNode) ? typeNode.value : undefined;
      const type = isParamType(typeName) ? typeName : undefined;
      const defaultNode = isMap(body) ? this.dereference(body.get('default', true) ?? null) : body;
      let fallback: ParamValue | undefined;
      if (isScalar(defaultNode) && isParamValue(defaultNode.value)) {
        // A string parameter keeps its default as written: `default: 1.50` is "1.50", not "1.5".
        const asWritten = type === 'string' && typeof defaultNode.value !== 'string' && defaultNode.source !== undefined;
        const written = asWritten ? defaultNode.source! : defaultNode.value;
        if (type === undefined) fallback = written;
        else {
          const conversion = convertParam(type, written);
          if (conversion.ok) fallback = conversion.value;
          else {
            this.badParams.add(name);
            this.report(defaultNode.range?.[0] ?? keyOffset, 'PC107', { name, type, detail: conversion.detail });
          }
        }
      } else if (defaultNode !== null && !(isScalar(defaultNode) && defaultNode.value === null)) {
        this.badParams.add(name);
        this.report(defaultNode.range?.[0] ?? keyOffset, 'PC107', {
          name,
          type: type ?? 'string',
          detail: `expected a single value, got ${isSeq(defaultNode) ? 'a list' : 'a map'}`,
        });
      }
      declarations.set(name, { name, type, fallback });
    }
    return declarations;
  }

  private paramValues(
    declarations: ReadonlyMap<string, Declaration>,
    overrides: Readonly<Record<string, string>>,
  ): Record<string, ParamValue> {
    const values: Record<string, ParamValue> = {};
    for (const [name, declaration] of declarations) if (declaration.fallback !== undefined) values[name] = declaration.fallback;
    for (const [name, text] of Object.entries(overrides)) {
      const declaration = declarations.get(name);
      if (!declaration) {
        this.reported.push(diagnostic('PC108', undefined, { name, suggestion: suggestion(name, declarations.keys()) }));
        continue;
      }
      if (declaration.type === undefined) {
        values[name] = text;
        continue;
      }
      const conversion = convertParam(declaration.type, text);
      if (conversion.ok) values[name] = conversion.value;
      else {
        this.badParams.add(name);
        this.reported.push(diagnostic('PC107', undefined, { name, type: declaration.type, detail: conversion.detail }));
      }
    }
    return values;
  }

  /** Replace `${params.NAME}` in every string value outside `params:`; a value that is only a reference takes the parameter's type. */
  private substitute(declarations: ReadonlyMap<string, Declaration>, values: Readonly<Record<string, ParamValue>>): void {
    const root = this.document.contents;
    const walk = (node: unknown): void => {
      if (isMap(node)) {
        for (const pair of node.items as Pair[]) {
          // Declarations are not substituted: a default is a value, not a template.
          if (node === root && keyName(pair.key) === 'params') continue;
          walk(pair.value);
        }
      } else if (isSeq(node)) {
        for (const item of node.items) walk(item);
      } else if (isScalar(node)) {
        const substitution = this.substitutions.get(node);
        if (substitution) this.substituteScalar(node, substitution, declarations, values);
      }
    };
    walk(root);
  }

  private substituteScalar(
    scalar: Scalar,
    substitution: Substitution,
    declarations: ReadonlyMap<string, Declaration>,
    values: Readonly<Record<string, ParamValue>>,
  ): void {
    const { written, references } = substitution;
    const segments: Segment[] = [];
    let text = '';
    let writtenIndex = 0;
    let typed: ParamValue | undefined;
    const copy = (end: number): void => {
      if (end > writtenIndex) segments.push({ valueStart: text.length, writtenStart: writtenIndex, length: end - writtenIndex, copied: true });
      text += written.slice(writtenIndex, end);
      writtenIndex = end;
    };
    for (const reference of references) {
      copy(reference.start);
      const declaration = declarations.get(reference.name);
      const value = values[reference.name];
      if (declaration === undefined || value === undefined) {
        const offset = this.alignment(scalar)[reference.start];
        if (declaration === undefined) {
          this.report(offset, 'PC106', { name: reference.name, suggestion: suggestion(reference.name, declarations.keys()) });
        } else if (!this.badParams.has(reference.name)) {
          this.badParams.add(reference.name);
          this.report(offset, 'PC107', {
            name: reference.name,
            type: declaration.type ?? 'string',
            detail: `it has no default and no --param ${reference.name}=VALUE was given`,
          });
        }
        copy(reference.end);
        continue;
      }
      const shown = String(value);
      segments.push({ valueStart: text.length, writtenStart: reference.start, length: shown.length, copied: false });
      text += shown;
      writtenIndex = reference.end;
      if (references.length === 1 && reference.start === 0 && reference.end === written.length) typed = value;
    }
    copy(written.length);
    substitution.segments = segments;
    scalar.value = typed ?? text;
  }

  // ---- plain data

  private toPlainData(): unknown {
    try {
      return this.document.toJS({ maxAliasCount: 10_000 });
    } catch (error) {
      // Only a pathological alias structure (a "billion laughs" document) gets here.
      this.report(0, 'PC101', { detail: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  private report(offset: number, code: 'PC101' | 'PC106' | 'PC107', args: Readonly<Record<string, string>>): void {
    this.reported.push(diagnostic(code, { source: this.source, offset }, args));
  }
}

/** Index in the written text of character `index` of the final value; the segments cover the whole value. */
function writtenIndexOf(substitution: Substitution, index: number): number {
  if (substitution.segments.length === 0) return index;
  for (const segment of substitution.segments) {
    if (index >= segment.valueStart && index < segment.valueStart + segment.length) {
      return segment.copied ? segment.writtenStart + (index - segment.valueStart) : segment.writtenStart;
    }
  }
  return substitution.written.length;
}

function keyName(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  return typeof key.value === 'symbol' ? undefined : String(key.value);
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';
}

function isParamValue(value: unknown): value is ParamValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** The YAML library's message, reworded where it speaks of its own API rather than of the file. */
function yamlDetail(problem: YAMLError, document: Document.Parsed): string {
  switch (problem.code) {
    case 'DUPLICATE_KEY': {
      const key = keyNameAt(document, problem.pos[0]);
      return key === undefined
        ? 'duplicate key; a key may appear only once in a map'
        : `duplicate key \`${key}\`; a key may appear only once in a map`;
    }
    case 'MULTIPLE_DOCS':
      return 'a spec file holds one YAML document; remove the second `---` and what follows, or move it to its own file';
    case 'MISSING_CHAR':
      return /quote/i.test(problem.message) ? 'this string has no closing quote' : problem.message;
    default:
      return problem.message;
  }
}

/** Where to point at a YAML problem: an unclosed quote where the string opens (the parser notices it at the end of the file). */
function problemOffset(problem: YAMLError, document: Document.Parsed): number {
  const offset = problem.pos[0];
  if (problem.code !== 'MISSING_CHAR' || !/quote/i.test(problem.message)) return offset;
  let opening = offset;
  visit(document, {
    Scalar(_, scalar) {
      const quoted = scalar.type === 'QUOTE_DOUBLE' || scalar.type === 'QUOTE_SINGLE';
      if (quoted && scalar.range && scalar.range[0] < offset && offset <= scalar.range[2]) {
        opening = scalar.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return opening;
}

/** The name of the map key that starts at `offset`, if one does. */
function keyNameAt(document: Document.Parsed, offset: number): string | undefined {
  let name: string | undefined;
  visit(document, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        name = keyName(pair.key);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return name;
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  if (!a.location || !b.location) return (a.location ? 1 : 0) - (b.location ? 1 : 0);
  return a.location.line - b.location.line || a.location.column - b.location.column;
}
