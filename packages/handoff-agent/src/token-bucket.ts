// A token bucket (RFC 2697's idea without colours): `burst` tokens at most, refilled at `perSecond`.
// The agent spends one token per fire-and-forget datagram or HELLO, so traffic toward hosts that do
// not answer stays bounded however many mappings point at them.
import type { RateLimit } from './constants.js';

export class TokenBucket {
  private tokens: number;
  private readonly perMs: number;
  private readonly burst: number;

  constructor(
    limit: RateLimit,
    private refilledAt: number,
  ) {
    this.perMs = limit.perSecond / 1000;
    this.burst = limit.burst;
    this.tokens = limit.burst;
  }

  /** True when a token is there to take at `now` (refills first, takes nothing). */
  has(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Takes a token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(now: number): void {
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return;
    this.refilledAt = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perMs);
  }
}
