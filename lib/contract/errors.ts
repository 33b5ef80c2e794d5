/** The contract's one error class. */

/** A problem with an input, with a code for programs and a message for people. */
export class ContractError extends Error {
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}
