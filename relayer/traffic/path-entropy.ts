/**
 * Shannon entropy (bits) of the paths in a sliding window of the last N requests. A scanner probing many
 * distinct paths approaches log2(N); a bot hammering one path sits near 0; an ordinary client with a
 * skewed (Zipf-like) mix of endpoints lands in between.
 *
 * Kept incrementally as H = log2 n − S / n with S = Σ c·log2 c over the per-path counts c, so a push costs
 * O(1) instead of a pass over the window.
 */
export class PathEntropy {
  private readonly ring: string[] = [];
  private next = 0;
  private readonly counts = new Map<string, number>();
  private s = 0;

  /** `window`: how many recent paths count (N). */
  constructor(readonly window: number) {
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer`);
  }

  /** Paths currently in the window (at most `window`). */
  get size(): number {
    return this.ring.length;
  }

  /** True once the window holds `window` paths: before that a low entropy may only mean few requests. */
  get full(): boolean {
    return this.ring.length === this.window;
  }

  /** Entropy of the window in bits (0 when empty). */
  get bits(): number {
    const n = this.ring.length;
    // Clamped: the running sum can drift a hair below the exact value after many updates.
    return n === 0 ? 0 : Math.max(0, Math.log2(n) - this.s / n);
  }

  /** Adds a path, dropping the oldest once the window is full. */
  push(path: string): void {
    if (this.full) {
      const old = this.ring[this.next] as string;
      this.ring[this.next] = path;
      this.next = (this.next + 1) % this.window;
      this.change(old, -1);
    } else {
      this.ring.push(path);
    }
    this.change(path, 1);
  }

  private change(path: string, delta: 1 | -1): void {
    const before = this.counts.get(path) ?? 0;
    const after = before + delta;
    this.s += cLogC(after) - cLogC(before);
    if (after === 0) this.counts.delete(path);
    else this.counts.set(path, after);
  }
}

function cLogC(c: number): number {
  return c <= 1 ? 0 : c * Math.log2(c);
}
