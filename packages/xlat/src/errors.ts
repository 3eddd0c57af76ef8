// The one error class of this package. It is thrown only at configuration time (bad prefix text,
// bad translator settings); the packet path never throws and reports drops through verdicts.

export class XlatError extends Error {
  /** Machine-readable cause, e.g. 'badPrefix' or 'badConfig'. */
  readonly code: string;
  /** Position in the offending text where parsing failed, or -1 when not applicable. */
  readonly offset: number;

  constructor(code: string, message: string, offset = -1) {
    super(message);
    this.name = 'XlatError';
    this.code = code;
    this.offset = offset;
  }
}
