/**
 * A small argv parser for the CLI's fixed set of options: `--name value`, `--name=value`, a
 * one-letter alias (`-o value`), repeated options collected in order, flags without values.
 * Unknown options are errors, so a typo never silently runs with defaults.
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  /** Takes a value (`--out FILE`); otherwise a flag (`--json`). */
  readonly value: boolean;
  /** May be given more than once (`--dims a=1,2 --dims b=3`). */
  readonly repeat?: boolean;
  /** One-letter alias: `o` lets `-o FILE` stand for `--out FILE`. */
  readonly short?: string;
}

export interface Parsed {
  readonly positional: readonly string[];
  readonly options: ReadonlyMap<string, readonly string[]>;
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  const aliases = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[`-${s.short}`, name]] : [])));
  for (let i = 0; i < argv.length; i++) {
    const alias = aliases.get(argv[i]!);
    const arg = alias ? `--${alias}` : argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    let value = 'true';
    if (s.value) {
      const v = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      value = v;
    } else if (eq >= 0) {
      throw new UsageError(`--${name} takes no value`);
    }
    const list = options.get(name) ?? [];
    if (list.length && !s.repeat) throw new UsageError(`--${name} given more than once`);
    list.push(value);
    options.set(name, list);
  }
  return { positional, options };
}

export function option(p: Parsed, name: string): string | undefined {
  return p.options.get(name)?.[0];
}

/** `name=1,3,48,192` → ['name', [1, 3, 48, 192]]; the name may itself contain '='-free punctuation. */
export function parseDims(spec: string): [string, number[]] {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0) throw new UsageError(`--dims expects NAME=D1,D2,…, got "${spec}"`);
  const dims = spec.slice(eq + 1).split(',').map((s) => Number(s.trim()));
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new UsageError(`--dims ${spec}: dims must be non-negative integers`);
  return [spec.slice(0, eq), dims];
}

export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}
