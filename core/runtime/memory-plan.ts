/**
 * Assigns each transient tensor to a shared buffer so that tensors whose lifetimes do not overlap
 * reuse memory. Greedy in order of first use, best fit among free buffers (the smallest one large
 * enough, else the largest free one grown to fit), which is what ORT and TFLite do and is within a
 * few percent of optimal on feed-forward graphs.
 */
export interface Lifetime {
  readonly bytes: number;
  /** Index of the step that writes it first. */
  readonly first: number;
  /** Index of the last step that reads it; Infinity for values that must survive the run. */
  readonly last: number;
}

export interface MemoryPlan {
  /** Buffer index for each lifetime, in input order. */
  readonly assignment: readonly number[];
  readonly bufferBytes: readonly number[];
}

export function planMemory(lifetimes: readonly Lifetime[]): MemoryPlan {
  const order = lifetimes.map((_, i) => i).sort((a, b) => lifetimes[a]!.first - lifetimes[b]!.first || a - b);
  const assignment = new Array<number>(lifetimes.length);
  const bufferBytes: number[] = [];
  const busyUntil: number[] = [];
  for (const i of order) {
    const { bytes, first, last } = lifetimes[i]!;
    let best = -1;
    for (let b = 0; b < bufferBytes.length; b++) {
      if (busyUntil[b]! >= first) continue;
      if (best < 0) { best = b; continue; }
      const fits = bufferBytes[b]! >= bytes;
      const bestFits = bufferBytes[best]! >= bytes;
      if (fits && (!bestFits || bufferBytes[b]! < bufferBytes[best]!)) best = b;
      else if (!fits && !bestFits && bufferBytes[b]! > bufferBytes[best]!) best = b;
    }
    if (best < 0) {
      best = bufferBytes.length;
      bufferBytes.push(0);
      busyUntil.push(-1);
    }
    bufferBytes[best] = Math.max(bufferBytes[best]!, bytes);
    busyUntil[best] = last;
    assignment[i] = best;
  }
  return { assignment, bufferBytes };
}
