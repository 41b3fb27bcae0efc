/**
 * Sticky weighted assignment. A client's bucket is sha256(model \0 client) mod 10000, so it is
 * stable across requests and isolates and independent between models. Weights are laid out in
 * ascending version order, so the newest version holds the top buckets: growing a canary from
 * 5% to 10% keeps every client already on the canary there.
 */
export const BUCKETS = 10_000;

export interface Weight {
  version: number;
  /** Percent, with at most two decimals (one bucket = 0.01%). */
  weight: number;
}

export async function clientBucket(model: string, client: string): Promise<number> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${model}\0${client}`));
  return new DataView(digest).getUint32(0) % BUCKETS;
}

/** Returns a reason when the weights are not a valid split of all traffic. */
export function invalidWeights(weights: readonly Weight[]): string | undefined {
  if (weights.length === 0) return 'at least one weighted version is needed';
  const versions = new Set(weights.map((w) => w.version));
  if (versions.size !== weights.length) return 'a version appears more than once';
  let total = 0;
  for (const { version, weight } of weights) {
    const bps = Math.round(weight * 100);
    if (Math.abs(bps - weight * 100) > 1e-6 || bps <= 0) return `weight for v${version} must be > 0 with at most two decimals`;
    total += bps;
  }
  return total === BUCKETS ? undefined : `weights sum to ${total / 100}, not 100`;
}

/** Assumes `weights` passed `invalidWeights`. */
export function pickVersion(weights: readonly Weight[], bucket: number): number {
  const ordered = [...weights].sort((a, b) => a.version - b.version);
  let upper = 0;
  for (const { version, weight } of ordered) {
    upper += Math.round(weight * 100);
    if (bucket < upper) return version;
  }
  return ordered[ordered.length - 1]!.version;
}
