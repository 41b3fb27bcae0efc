/**
 * Hand-assembled WebAssembly modules shaped like the CPU kernels' (an exported memory, an exported
 * `__heap_base`, exported functions), for the failures a real build cannot be made to show: a module
 * that lacks kernels the plan calls, or whose kernels trap. Every function is `() -> ()` with the
 * body `unreachable`; JavaScript may pass it any number of arguments.
 */

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};

const section = (id: number, body: readonly number[]): number[] => [id, ...leb(body.length), ...body];
const vec = (items: readonly (readonly number[])[]): number[] => [...leb(items.length), ...items.flat()];
const name = (s: string): number[] => {
  const bytes = [...new TextEncoder().encode(s)];
  return [...leb(bytes.length), ...bytes];
};

export function trappingKernelModule(fns: readonly string[], heapBase = 1024): Uint8Array<ArrayBuffer> {
  const FUNC = 0;
  const MEMORY = 2;
  const GLOBAL = 3;
  // The signed LEB128 of i32.const: heapBase stays below 2^13 so the unsigned encoding is the same.
  if (heapBase >= 2 ** 13) throw new Error('heapBase must be below 8192');
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0x00, 0x00]])),
    ...section(3, vec(fns.map(() => [0x00]))),
    ...section(5, vec([[0x00, 0x01]])),
    ...section(6, vec([[0x7f, 0x00, 0x41, ...leb(heapBase), 0x0b]])),
    ...section(7, vec([
      [...name('memory'), MEMORY, 0x00],
      [...name('__heap_base'), GLOBAL, 0x00],
      ...fns.map((fn, i) => [...name(fn), FUNC, ...leb(i)]),
    ])),
    ...section(10, vec(fns.map(() => [0x03, 0x00, 0x00, 0x0b]))),
  ]);
}
