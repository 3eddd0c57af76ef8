// The one error class of this package. Only configuration and API misuse throw; the packet path returns
// verdicts instead (see VERDICT in constants.ts).

/** Why a configuration or an administrative call was refused. */
export type Nat64ErrorCode =
  | 'BAD_POOL4'
  | 'BAD_TIMEOUT'
  | 'BAD_LIMIT'
  | 'BAD_PROTOCOL'
  | 'BAD_ADDRESS'
  | 'BAD_PORT'
  | 'BAD_SECRET'
  | 'BAD_HANDLE'
  | 'STATIC_BIB_REFUSED';

export class Nat64Error extends Error {
  override readonly name = 'Nat64Error';

  constructor(
    readonly code: Nat64ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
