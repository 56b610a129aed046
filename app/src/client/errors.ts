// Mistakes and refusals a user can act on, each with one clear sentence. The CLI prints the message
// alone (no stack) and exits with the code of its kind; see app/README.md for the table.
export type ClientErrorKind =
  /** Wrong input: a bad amount, a missing file, a flag that does not apply. */
  | "usage"
  /** The chain's state does not allow it (price above max, not delivered, expired, already registered). */
  | "refused"
  /** Downloaded or delivered data failed verification (tampered, truncated, wrong key). */
  | "verification"
  /** Something to read is not there (an account, content on IPFS). */
  | "not-found";

export class ClientError extends Error {
  override name = "ClientError";

  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
