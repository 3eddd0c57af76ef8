// Per-source token buckets for the replies a gateway's request draws: HELLO-ACK and ANSWER
// (handoff-v1 sections 6.5, 6.8 and 7: "Receivers SHOULD rate-limit HELLO-ACKs and ANSWERs per
// source address"). Each source address holds a bucket of `burst` tokens refilled at `perSecond`;
// a reply takes one. Sources are remembered up to a bound: beyond it the source seen first is
// forgotten and starts again with a full bucket, which can only make the limit looser for it.
import type { MicroClock } from '@nat64/service';
import { setNewest } from './bounded-map.js';

export interface RateLimit {
  /** Tokens added per second; 0 turns the limit off. */
  perSecond: number;
  /** Tokens a bucket holds at most: the replies a source may draw at once. */
  burst: number;
}

/** Source addresses remembered per limiter, at most. */
export const MAX_RATE_LIMITED_SOURCES = 16_384;

interface Bucket {
  tokens: number;
  /** When `tokens` was last refilled, µs. */
  at: number;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMicrosecond: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: MicroClock,
    private readonly maxSources = MAX_RATE_LIMITED_SOURCES,
  ) {
    this.perMicrosecond = limit.perSecond / 1e6;
  }

  get sources(): number {
    return this.buckets.size;
  }

  /** Takes a token from the bucket of `source`; false, taking nothing, when it is empty. */
  take(source: string): boolean {
    if (this.limit.perSecond === 0) return true;
    const now = this.clock();
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      bucket = { tokens: this.limit.burst, at: now };
      setNewest(this.buckets, source, bucket, this.maxSources);
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * this.perMicrosecond);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** Defaults: a gateway sends a few HELLOs per start and one per keepalive; QUERYs follow its cache misses. */
export const DEFAULT_HELLO_LIMIT: RateLimit = { perSecond: 5, burst: 20 };
export const DEFAULT_QUERY_LIMIT: RateLimit = { perSecond: 10_000, burst: 20_000 };

/**
 * The receiver's reply limits. HELLOs that echo the cookie of their (A, E) draw from a bucket of
 * their own, so that a flood of HELLOs spoofing A without the cookie delays only A's first HELLO,
 * never the keepalives of an established epoch. QUERYs reach the limit only after their cookie
 * was checked, so spoofed ones cannot spend a gateway's tokens.
 */
export class ReplyLimits {
  private readonly unproven: SourceRateLimiter;
  private readonly proven: SourceRateLimiter;
  private readonly queries: SourceRateLimiter;

  constructor(hello: RateLimit, query: RateLimit, clock: MicroClock) {
    this.unproven = new SourceRateLimiter(hello, clock);
    this.proven = new SourceRateLimiter(hello, clock);
    this.queries = new SourceRateLimiter(query, clock);
  }

  /** Whether a HELLO from `source` may draw a HELLO-ACK; `withCookie` when it echoes our cookie. */
  hello(source: string, withCookie: boolean): boolean {
    return (withCookie ? this.proven : this.unproven).take(source);
  }

  /** Whether a QUERY with a valid cookie from `source` may draw an ANSWER. */
  query(source: string): boolean {
    return this.queries.take(source);
  }
}
