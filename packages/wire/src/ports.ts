// Well-known UDP ports of the protocols we speak, each with where it is assigned.

/** Geneve: the UDP destination port assigned by IANA (RFC 8926 section 3.3). */
export const GENEVE_PORT = 6081;

/**
 * Handoff v1 on both sides (docs/protocol/handoff-v1.md section 4); in the dynamic range of
 * RFC 6335 section 6, so unregistered.
 */
export const HANDOFF_PORT = 62863;
