// Runs the compiler's first phases on a spec held in a string, for the phases' unit tests, and renders their diagnostics.

import { loadSpec } from '../../compiler/load/index.ts';
import { validateSpec } from '../../compiler/validate/index.ts';
import { resolve } from '../../compiler/resolve/index.ts';
import { check } from '../../compiler/check/index.ts';
import { emit } from '../../compiler/emit/index.ts';
import { stateSchema } from '../../compiler/state/index.ts';
import type { Diagnostic } from '../../compiler/diagnostics/diagnostic.ts';

/** load → validate → resolve, failing the test on load or schema errors (the phase under test comes after). */
export function resolved(text: string, params: Record<string, string> = {}) {
  const loaded = loadSpec(text, 'spec.yaml', params);
  const early = [...loaded.diagnostics, ...validateSpec(loaded)].filter((d) => d.severity === 'error');
  if (early.length > 0) throw new Error(`spec does not validate:\n${render(early)}`);
  return resolve(loaded);
}

export function checked(text: string) {
  const { pipeline, diagnostics } = resolved(text);
  if (diagnostics.some((d) => d.severity === 'error')) throw new Error(`spec does not resolve:\n${render(diagnostics)}`);
  return check(pipeline);
}

/** The head of a small spec that the emit tests complete with steps and sinks: one source of orders. */
export const SHOP_ORDERS = `pipeline: shop
types:
  Order: { order_id: string, category: string, price: float, ts: timestamp }
sources:
  orders: { connector: file, path: orders.jsonl, type: Order, event_time: { field: ts } }
`;

/** The module the code generator writes for a spec that checks (as `shop.yaml`), failing the test on any error before. */
export function generatedCode(text: string): string {
  const { typed, diagnostics } = checked(text);
  if (typed === undefined) throw new Error(`spec does not check:\n${render(diagnostics)}`);
  return emit(typed, stateSchema(typed), { specPath: 'shop.yaml', runtimeImport: 'pipec/runtime', fileName: 'shop.ts', specFromModule: 'shop.yaml', pipecVersion: 'test' }).code;
}

/** `line:column code message`; `code message` for a diagnostic without a place (one about the command line). */
export function renderDiagnostic(diagnostic: Diagnostic): string {
  const { location, code, message } = diagnostic;
  return location ? `${location.line}:${location.column} ${code} ${message}` : `${code} ${message}`;
}

/** `line:column code message`, one line per diagnostic. */
export function render(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map(renderDiagnostic).join('\n');
}

/** The diagnostics of a loaded spec, rendered one per string. */
export function messages(spec: { readonly diagnostics: readonly Diagnostic[] }): string[] {
  return spec.diagnostics.map(renderDiagnostic);
}
