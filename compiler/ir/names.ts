// Names made from step ids: variables and functions in camelCase, record types in PascalCase.

/** `by_category` → `byCategory`; `step.branch` → `stepBranch`. */
export function camelCase(id: string): string {
  return id.replace(/[_.-]+([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** `revenue_by_category` → `RevenueByCategory`. */
export function pascalCase(id: string): string {
  return camelCase(id).replace(/^./, (letter) => letter.toUpperCase());
}
