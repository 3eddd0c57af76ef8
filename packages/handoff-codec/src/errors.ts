// The one error the throwing decoders raise. Messages follow one pattern,
// "Cannot decode <structure> (<problem>)", and `offset` is the absolute position in the buffer of
// the field where decoding failed.
import type { DecodeErrorCode } from './status.js';

export class HandoffDecodeError extends Error {
  override readonly name = 'HandoffDecodeError';

  constructor(
    readonly code: DecodeErrorCode,
    readonly offset: number,
    structure: string,
    problem: string,
  ) {
    super(`Cannot decode ${structure} (${problem})`);
  }
}
