// Retransmission timeout of one peer, computed as RFC 6298 §2 from round-trip samples of
// acknowledged, never retransmitted messages (Karn's rule, RFC 6298 §3), doubled on expiry (§5.5).

/** RFC 6298 §2.3: alpha = 1/8, beta = 1/4, K = 4. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;
/** Clock granularity G (RFC 6298 §2): the agent's clock counts milliseconds. */
const GRANULARITY_MS = 1;

/** SRTT, RTTVAR and RTO of one peer. All times in milliseconds. */
export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  /** The current RTO: what a newly sent message waits before its first retransmission. */
  rto: number;
  samples = 0;

  constructor(
    private readonly initialMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.rto = initialMs;
  }

  /** Takes a round-trip sample (RFC 6298 §2.2, §2.3); this also undoes any backoff (§5.7). */
  sample(rttMs: number): void {
    const rtt = Math.max(rttMs, 0);
    if (this.samples === 0) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      // RTTVAR first, from the SRTT before this sample (§2.3).
      this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - rtt);
      this.srtt = (1 - ALPHA) * this.srtt + ALPHA * rtt;
    }
    this.samples++;
    this.rto = this.clamp(this.srtt + Math.max(GRANULARITY_MS, K * this.rttvar));
  }

  /** The timer expired: RTO = RTO * 2, up to the maximum (§5.5). */
  backoff(): void {
    this.rto = this.clamp(this.rto * 2);
  }

  /** Forgets every sample: back to the initial RTO (a new epoch toward the peer). */
  reset(): void {
    this.srtt = 0;
    this.rttvar = 0;
    this.samples = 0;
    this.rto = this.initialMs;
  }

  private clamp(ms: number): number {
    return Math.min(this.maxMs, Math.max(this.minMs, ms));
  }
}
