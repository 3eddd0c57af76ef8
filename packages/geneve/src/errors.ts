// The one error the throwing decoders raise. Messages follow one pattern,
// "Cannot decode <structure> (<problem>)"; `offset` is the absolute position in the buffer of the
// field where decoding failed. Encoders reject invalid values with RangeError (a caller's bug,
// not bad input from the wire).

export type GeneveDecodeErrorCode =
  /** Fewer than 8 bytes: the fixed header is cut short (RFC 8926 §3.4). */
  | 'HEADER_TRUNCATED'
  /** Ver is not 0 (RFC 8926 §3.4). */
  | 'BAD_VERSION'
  /** Opt Len reaches past the end of the packet (RFC 8926 §3.4). */
  | 'OPTIONS_TRUNCATED'
  /** An option's Length reaches past the end of the options area (RFC 8926 §3.5). */
  | 'OPTION_OVERRUN'
  /** Option data shorter than its fixed fields (options §3, §4). */
  | 'OPTION_TRUNCATED'
  /** A field holds a value the specification does not define. */
  | 'BAD_FIELD';

export class GeneveDecodeError extends Error {
  override readonly name = 'GeneveDecodeError';

  constructor(
    readonly code: GeneveDecodeErrorCode,
    readonly offset: number,
    structure: string,
    problem: string,
  ) {
    super(`Cannot decode ${structure} (${problem})`);
  }
}
