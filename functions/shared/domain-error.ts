/**
 * The base of each domain core's own error (CatalogError, OrderError, PaymentError, …): a code
 * that says what went wrong in the domain's words, a message for people, and the facts a client
 * may need. Cores stay free of HTTP; each service's handler maps the codes to problems
 * (shared/problem.ts problemFor, shared/http.ts `toProblem`).
 */
export class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}
