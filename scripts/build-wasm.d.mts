export const WASM_OUT: string;
export function buildWasm(options?: { force?: boolean; quiet?: boolean }): string;
