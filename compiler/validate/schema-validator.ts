// A spec checked against a JSON Schema with ajv, its errors narrowed to one clear diagnostic per wrong node.

import { Ajv2020, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { describeValue, formatPath, type LoadedSpec, type SpecPath } from '../load/index.ts';
import {
  durationProblem,
  oneOfProblem,
  plainProblem,
  typeNames,
  typesPhrase,
  unknownPropertyProblem,
  valueProblem,
  choiceProblem,
  withArticle,
  rank,
  type Problem,
  type SchemaError,
} from './problems.ts';

/** Durations are recognised by where their rule lives in the schema, whatever rule (pattern, type, anyOf) failed. */
const DURATION_POINTER = '/$defs/duration';
/**
 * `${params.NAME}` alternatives let an editor accept the spec as written; the loader has substituted every
 * parameter before validation, so such a branch is never the one meant.
 */
const PARAM_REFERENCE_POINTER = '/$defs/paramRef';

export class SchemaValidator {
  private readonly ajv: Ajv2020;
  /** The URI the schema is registered under; sub-schemas are reached as `base#/json/pointer`. */
  private readonly base: string;
  private readonly validateRoot: ValidateFunction;
  /** JSON pointer of every object in the schema, so that an error's schema (from `verbose`) can be found again. */
  private readonly pointers = new Map<object, string>();
  private readonly objectIds = new Map<object, number>();

  constructor(schema: SchemaObject) {
    // strict off: editor keywords (markdownDescription, defaultSnippets) are welcome in the schema.
    this.ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false });
    formatsPlugin.default(this.ajv);
    this.base = typeof schema.$id === 'string' ? schema.$id : 'pipec:pipeline.schema.json';
    this.ajv.addSchema(schema, typeof schema.$id === 'string' ? undefined : this.base);
    const validate = this.ajv.getSchema(this.base);
    if (!validate) throw new Error(`the schema ${this.base} did not compile`);
    this.validateRoot = validate;
    this.indexPointers(schema, '');
  }

  validate(spec: LoadedSpec): Diagnostic[] {
    if (spec.value === undefined) return [];
    const errors = this.run(this.validateRoot, spec.value, []);
    const problems = selectProblems(this.explain(errors));
    // A node the loader already reported on (a parameter default of the wrong type) needs no second message.
    const reported = new Set(spec.diagnostics.flatMap((entry) => (entry.location ? [`${entry.location.line}:${entry.location.column}`] : [])));
    const located = problems
      .map((problem) => {
        const offset = spec.offsetOf(problem.path, problem.part);
        return { offset, diagnostic: diagnostic(problem.code, { source: spec.source, offset }, problem.args) };
      })
      .filter((entry) => !reported.has(`${entry.diagnostic.location?.line}:${entry.diagnostic.location?.column}`));
    located.sort(
      (a, b) =>
        a.offset - b.offset || a.diagnostic.code.localeCompare(b.diagnostic.code) || a.diagnostic.message.localeCompare(b.diagnostic.message),
    );
    return located.map((entry) => entry.diagnostic);
  }

  // ---- running ajv

  private run(validate: ValidateFunction, data: unknown, at: SpecPath): SchemaError[] {
    if (validate(data)) return [];
    return (validate.errors ?? []).map((error) => this.normalize(error, data, at));
  }

  private normalize(error: ErrorObject, data: unknown, at: SpecPath): SchemaError {
    return {
      path: [...at, ...segmentsOf(error.instancePath, data)],
      keyword: error.keyword,
      params: error.params as Record<string, unknown>,
      schemaPath: error.schemaPath,
      schema: error.schema,
      parentSchema: isObject(error.parentSchema) ? error.parentSchema : undefined,
      data: error.data,
      propertyName: error.propertyName,
    };
  }

  // ---- explaining

  /** Problems for a flat list of errors: each failed oneOf/anyOf is replaced by the explanation of the branch that was meant. */
  private explain(errors: readonly SchemaError[]): Problem[] {
    const problems: Problem[] = [];
    const consumed = new Set<SchemaError>();
    const combinators = errors
      .filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf')
      .sort((a, b) => a.path.length - b.path.length);
    for (const combinator of combinators) {
      if (consumed.has(combinator)) continue;
      const branches = this.branchErrors(combinator);
      if (!branches) continue;
      consumed.add(combinator);
      // The errors of every branch are in the flat list too; they are explained through the branch that was meant.
      const inBranches = new Set(branches.flat().map((error) => this.errorKey(error)));
      for (const error of errors) {
        if (!consumed.has(error) && isWithin(error.path, combinator.path) && inBranches.has(this.errorKey(error))) consumed.add(error);
      }
      problems.push(...this.explainCombinator(combinator, branches));
    }
    for (const error of errors) {
      if (consumed.has(error)) continue;
      const problem = this.problemOf(error);
      if (problem) problems.push(problem);
    }
    return problems;
  }

  private problemOf(error: SchemaError): Problem | undefined {
    if (this.isDurationError(error)) return durationProblem(error.path, error.data);
    if (error.propertyName !== undefined) return this.keyProblem(error, error.propertyName);
    switch (error.keyword) {
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const name = unknownPropertyOf(error) ?? '';
        return unknownPropertyProblem(error.path, name, this.allowedProperties(error.parentSchema));
      }
      case 'oneOf':
      case 'anyOf':
        return oneOfProblem(error.path, 'matches none of the allowed forms');
      default:
        return plainProblem(error);
    }
  }

  /** An error inside `propertyNames`: the key itself is wrong. */
  private keyProblem(error: SchemaError, name: string): Problem | undefined {
    const inner = plainProblem({ ...error, path: [...error.path, name], data: name, propertyName: undefined });
    if (!inner || inner.code !== 'PC102') return inner;
    const problem = valueProblem(error.path, `key \`${name}\`: ${String(inner.args.detail)}`, inner.rank);
    return { ...problem, path: [...error.path, name], part: 'key' };
  }

  /** The errors of each branch of a failed oneOf/anyOf, found by validating the value against each branch alone. */
  private branchErrors(combinator: SchemaError): SchemaError[][] | undefined {
    if (!Array.isArray(combinator.schema)) return undefined;
    const branches: SchemaError[][] = [];
    for (const branch of combinator.schema as unknown[]) {
      if (typeof branch === 'boolean') {
        // `true` would have matched; `false` never does: a branch for no type of value.
        const neverMatches: SchemaError = {
          ...combinator,
          keyword: 'type',
          params: { type: [] },
          schemaPath: '',
          schema: branch,
          parentSchema: undefined,
        };
        branches.push([neverMatches]);
        continue;
      }
      const validate = isObject(branch) ? this.validatorOf(branch) : undefined;
      if (!validate) return undefined;
      branches.push(this.run(validate, combinator.data, combinator.path));
    }
    return branches;
  }

  private explainCombinator(combinator: SchemaError, branches: readonly SchemaError[][]): Problem[] {
    const path = combinator.path;
    const value = combinator.data;
    const schemas = (combinator.schema as unknown[]).map((branch) => (isObject(branch) ? branch : {}));
    const names = this.branchNames(schemas);

    const passing = combinator.params.passingSchemas;
    if (Array.isArray(passing)) {
      const matched = passing.map((index) => names[Number(index)]).filter((name) => name !== '');
      const detail =
        matched.length > 1
          ? `${this.exactlyOne(names, combinator)}, got ${matched.join(' and ')} together`
          : 'matches more than one of the allowed forms';
      return [oneOfProblem(path, detail)];
    }

    const atNode = (error: SchemaError): boolean => samePath(error.path, path);
    const durationAtNode = branches.some((errors) => errors.some((error) => atNode(error) && this.isDurationError(error)));
    if (durationAtNode || this.isDurationSchema(combinator.parentSchema)) return [durationProblem(path, value)];

    const meant = branches.map((_, index) => index).filter((index) => !this.isParamReference(schemas[index]));
    const considered = meant.length > 0 ? meant : branches.map((_, index) => index);
    // A branch for another type of value is not the one meant.
    let candidates = considered.filter((index) => !branches[index].some((error) => atNode(error) && error.keyword === 'type'));
    if (candidates.length === 0) {
      const expected = considered.flatMap((index) =>
        branches[index].filter((error) => atNode(error) && error.keyword === 'type').flatMap((error) => typeNames(error.params.type)),
      );
      return [valueProblem(path, `expected ${typesPhrase(expected)}, got ${describeValue(value)}`, rank.type)];
    }

    // A discriminating property (`connector: kafka`) picks the branch whose const or enum it satisfies.
    if (isPlainObject(value)) {
      const discriminated = this.byDiscriminator(path, value, candidates, branches);
      if (discriminated.problem) return [discriminated.problem];
      candidates = discriminated.candidates;
    }

    // A property that only one branch requires (`filter`, `window`) says which branch was meant.
    if (isPlainObject(value) && candidates.length > 1) {
      const chosen = this.byRequiredProperty(path, value, candidates, branches, schemas, names, combinator);
      if (chosen.problems) return chosen.problems;
      candidates = chosen.candidates;
    }

    // With no telling which branch was meant: the one that got furthest into the value, then the one with fewest errors.
    const best = candidates.reduce((chosen, index) => (furtherThan(branches[index], branches[chosen]) ? index : chosen));
    return this.explain(branches[best]);
  }

  private byDiscriminator(
    path: SpecPath,
    value: Readonly<Record<string, unknown>>,
    candidates: readonly number[],
    branches: readonly SchemaError[][],
  ): { candidates: number[]; problem?: Problem } {
    let remaining = [...candidates];
    for (const key of Object.keys(value)) {
      const childPath = [...path, key];
      const isChoiceError = (error: SchemaError): boolean =>
        samePath(error.path, childPath) && (error.keyword === 'const' || error.keyword === 'enum');
      const failing = remaining.filter((index) => branches[index].some(isChoiceError));
      if (failing.length === 0) continue;
      // A branch fits the key when it admits the key and has nothing against its value.
      const rejectsKey = (error: SchemaError): boolean =>
        isWithin(error.path, childPath) || (samePath(error.path, path) && unknownPropertyOf(error) === key);
      const fitting = remaining.filter((index) => !branches[index].some(rejectsKey));
      if (fitting.length > 0) {
        remaining = remaining.filter((index) => !failing.includes(index));
        continue;
      }
      if (failing.length === remaining.length && remaining.length > 1) {
        const allowed = new Set(failing.flatMap((index) => branches[index].filter(isChoiceError).flatMap(allowedValues)));
        return { candidates: remaining, problem: choiceProblem(childPath, [...allowed], value[key]) };
      }
    }
    return { candidates: remaining };
  }

  private byRequiredProperty(
    path: SpecPath,
    value: Readonly<Record<string, unknown>>,
    candidates: readonly number[],
    branches: readonly SchemaError[][],
    schemas: readonly object[],
    names: readonly string[],
    combinator: SchemaError,
  ): { candidates: number[]; problems?: Problem[] } {
    const distinct = this.distinctRequired(schemas);
    const present = (index: number): boolean => distinct[index].length > 0 && distinct[index].every((name) => name in value);
    let full = candidates.filter(present);
    // A branch whose properties are all in another present branch's (aggregate ⊂ window + aggregate) is the lesser match.
    full = full.filter((index) => !full.some((other) => other !== index && isStrictSubset(distinct[index], distinct[other])));
    if (full.length === 1) return { candidates: full };
    if (full.length > 1) {
      const together = full.map((index) => names[index]);
      return { candidates: full, problems: [oneOfProblem(path, `${this.exactlyOne(names, combinator)}, got ${together.join(' and ')} together`)] };
    }
    const partial = candidates.filter((index) => distinct[index].some((name) => name in value));
    if (partial.length === 1) return { candidates: partial };
    if (partial.length > 1 || candidates.some((index) => distinct[index].length === 0)) return { candidates: [...candidates] };

    // None of the distinguishing properties is there: most likely one of them is misspelled.
    const unknownIn = (errors: readonly SchemaError[]): Set<string> =>
      new Set(errors.filter((error) => samePath(error.path, path)).flatMap((error) => unknownPropertyOf(error) ?? []));
    const unknownEverywhere = [...unknownIn(branches[candidates[0]])].filter((name) =>
      candidates.every((index) => unknownIn(branches[index]).has(name)),
    );
    const allowed = new Set(candidates.flatMap((index) => [...this.allowedProperties(schemas[index])]));
    const problems = unknownEverywhere.map((name) => unknownPropertyProblem(path, name, allowed));
    const alternatives = candidates.flatMap((index) => distinct[index]);
    problems.push(oneOfProblem(path, `${this.exactlyOne(names, combinator)}, got none of them`, alternatives));
    return { candidates: [...candidates], problems };
  }

  /** `expected exactly one of filter, map, set in a step`; the noun comes from the schema's `title`. */
  private exactlyOne(names: readonly string[], combinator: SchemaError): string {
    const title = combinator.parentSchema && 'title' in combinator.parentSchema ? combinator.parentSchema.title : undefined;
    const listed = names.filter((name) => name !== '');
    const what = listed.length > 0 ? `exactly one of ${listed.join(', ')}` : `exactly one of the allowed forms`;
    return typeof title === 'string' && title !== '' ? `expected ${what} in ${withArticle(title.toLowerCase())}` : `expected ${what}`;
  }

  /** Per branch, the properties it requires that not every branch requires. */
  private distinctRequired(schemas: readonly object[]): string[][] {
    const required = schemas.map((schema) => this.requiredProperties(schema));
    const common = required.length === 0 ? [] : required.slice(1).reduce((shared, names) => shared.filter((name) => names.includes(name)), required[0]);
    return required.map((names) => names.filter((name) => !common.includes(name)));
  }

  /** Each branch named by its own required properties (`filter`, `window`), or by its type (`a string`). */
  private branchNames(schemas: readonly object[]): string[] {
    const distinct = this.distinctRequired(schemas);
    return distinct.map((names, index) => {
      const own = names.filter((name) => !distinct.some((other, otherIndex) => otherIndex !== index && other.includes(name)));
      if (own.length > 0) return own.join(' + ');
      if (names.length > 0) return names.join(' + ');
      const type = this.resolve(schemas[index]).flatMap((schema) => ('type' in schema ? typeNames(schema.type) : []));
      return type.length > 0 ? typesPhrase(type) : '';
    });
  }

  // ---- reading the schema

  private requiredProperties(schema: object): string[] {
    const names: string[] = [];
    for (const part of this.resolve(schema)) {
      if ('required' in part && Array.isArray(part.required)) names.push(...part.required.map(String));
      if ('allOf' in part && Array.isArray(part.allOf)) {
        for (const member of part.allOf) if (isObject(member)) names.push(...this.requiredProperties(member));
      }
    }
    return [...new Set(names)];
  }

  /** Every property name a schema admits anywhere in its alternatives, for "did you mean". */
  private allowedProperties(schema: object | undefined, seen = new Set<object>()): Set<string> {
    const names = new Set<string>();
    if (!schema || seen.has(schema)) return names;
    seen.add(schema);
    for (const part of this.resolve(schema)) {
      if ('properties' in part && isObject(part.properties)) for (const name of Object.keys(part.properties)) names.add(name);
      for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
        const members = keyword in part ? (part as Record<string, unknown>)[keyword] : undefined;
        if (!Array.isArray(members)) continue;
        for (const member of members) if (isObject(member)) for (const name of this.allowedProperties(member, seen)) names.add(name);
      }
      for (const keyword of ['then', 'else'] as const) {
        const member = keyword in part ? (part as Record<string, unknown>)[keyword] : undefined;
        if (isObject(member)) for (const name of this.allowedProperties(member, seen)) names.add(name);
      }
    }
    return names;
  }

  /** A schema and what its `$ref` chain points at. */
  private resolve(schema: object): object[] {
    const chain: object[] = [];
    let current: object | undefined = schema;
    while (current && !chain.includes(current)) {
      chain.push(current);
      const ref: unknown = '$ref' in current ? current.$ref : undefined;
      current = typeof ref === 'string' ? this.schemaAt(ref) : undefined;
    }
    return chain;
  }

  private schemaAt(ref: string): object | undefined {
    const found = this.ajv.getSchema(ref.startsWith('#') ? `${this.base}${ref}` : ref)?.schema;
    return isObject(found) ? found : undefined;
  }

  private validatorOf(schema: object): ValidateFunction | undefined {
    const pointer = this.pointers.get(schema);
    return pointer === undefined ? undefined : this.ajv.getSchema(`${this.base}#${encodeURI(pointer)}`);
  }

  private isDurationError(error: SchemaError): boolean {
    return error.schemaPath.includes(`#${DURATION_POINTER}/`) || this.isDurationSchema(error.parentSchema);
  }

  private isParamReference(schema: object): boolean {
    return this.resolve(schema).some((part) => this.pointers.get(part) === PARAM_REFERENCE_POINTER);
  }

  private isDurationSchema(schema: object | undefined): boolean {
    const pointer = schema && this.pointers.get(schema);
    return pointer !== undefined && (pointer === DURATION_POINTER || pointer.startsWith(`${DURATION_POINTER}/`));
  }

  private indexPointers(node: unknown, pointer: string): void {
    if (!isObject(node)) return;
    if (!Array.isArray(node)) this.pointers.set(node, pointer);
    for (const [key, child] of Object.entries(node)) this.indexPointers(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }

  /** Errors are the same when they say the same about the same node from the same schema object. */
  private errorKey(error: SchemaError): string {
    let id = error.parentSchema ? this.objectIds.get(error.parentSchema) : 0;
    if (id === undefined && error.parentSchema) {
      id = this.objectIds.size + 1;
      this.objectIds.set(error.parentSchema, id);
    }
    return `${JSON.stringify(error.path)}|${error.keyword}|${JSON.stringify(error.params)}|${id}|${error.propertyName ?? ''}`;
  }
}

/**
 * One problem per node for what is wrong with its value (the most telling); unknown and missing properties each once.
 * A misspelt property explains itself: no "missing `dataset`" or "expected one of …" beside
 * "unknown property `datset`; did you mean `dataset`?".
 */
function selectProblems(problems: readonly Problem[]): Problem[] {
  const chosen = new Map<string, Problem>();
  const misspelt = new Set(
    problems.filter((problem) => problem.suggests !== undefined).map((problem) => JSON.stringify([...problem.path.slice(0, -1), problem.suggests])),
  );
  const explainedByMisspelling = (problem: Problem): boolean => {
    if (problem.code === 'PC104') return misspelt.has(JSON.stringify([...problem.path, problem.args.name]));
    if (problem.code === 'PC109' && problem.alternatives) {
      return problem.alternatives.some((name) => misspelt.has(JSON.stringify([...problem.path, name])));
    }
    return false;
  };
  for (const problem of problems) {
    if (explainedByMisspelling(problem)) continue;
    const node = `${formatPath(problem.path)}|${problem.part}`;
    const key = problem.code === 'PC103' || problem.code === 'PC104' ? `${problem.code}|${node}|${JSON.stringify(problem.args)}` : `value|${node}`;
    const previous = chosen.get(key);
    if (!previous || problem.rank < previous.rank) chosen.set(key, problem);
  }
  return [...chosen.values()];
}

/** `/steps/2/window` → ['steps', 2, 'window'], indexes as numbers where the data holds a list. */
function segmentsOf(pointer: string, data: unknown): (string | number)[] {
  if (pointer === '') return [];
  const segments: (string | number)[] = [];
  let current = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(key);
      segments.push(index);
      current = current[index];
    } else {
      segments.push(key);
      current = isObject(current) ? (current as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

/** The property an additionalProperties or unevaluatedProperties error rejects. */
function unknownPropertyOf(error: SchemaError): string | undefined {
  if (error.keyword === 'additionalProperties') return String(error.params.additionalProperty);
  if (error.keyword === 'unevaluatedProperties') return String(error.params.unevaluatedProperty);
  return undefined;
}

function samePath(a: SpecPath, b: SpecPath): boolean {
  return a.length === b.length && a.every((segment, index) => segment === b[index]);
}

function isWithin(path: SpecPath, ancestor: SpecPath): boolean {
  return path.length >= ancestor.length && ancestor.every((segment, index) => segment === path[index]);
}

function depthOf(errors: readonly SchemaError[]): number {
  return errors.reduce((deepest, error) => Math.max(deepest, error.path.length), 0);
}

function furtherThan(errors: readonly SchemaError[], other: readonly SchemaError[]): boolean {
  const depth = depthOf(errors);
  const otherDepth = depthOf(other);
  return depth > otherDepth || (depth === otherDepth && errors.length < other.length);
}

function isStrictSubset(small: readonly string[], large: readonly string[]): boolean {
  return small.length < large.length && small.every((name) => large.includes(name));
}

function allowedValues(error: SchemaError): unknown[] {
  if (error.keyword === 'const') return [error.params.allowedValue];
  return Array.isArray(error.params.allowedValues) ? error.params.allowedValues : [];
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return isObject(value) && !Array.isArray(value);
}

