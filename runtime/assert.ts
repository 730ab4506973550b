// Exhaustiveness check for the runtime's switches over discriminated unions (the runtime does not import the compiler).

/** Called in the `default` of a switch that handled every case: a compile error if a case is missing, a throw if a value outside the type arrives anyway. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
