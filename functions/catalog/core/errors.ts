import { DomainError } from '../../shared/domain-error';

export type CatalogErrorCode =
  | 'productNotFound'
  | 'ifMatchRequired'
  | 'staleEtag'
  | 'insufficientStock'
  | 'reservationConflict'
  /** The race could not read the product it races on (catalog's API answered something else). */
  | 'productUnreadable';

/** What the catalog refuses. `currentEtag`: the product's version, when the client should read it again. */
export class CatalogError extends DomainError<CatalogErrorCode> {
  constructor(
    code: CatalogErrorCode,
    message: string,
    facts: Record<string, unknown> = {},
    readonly currentEtag?: string,
  ) {
    super(code, message, facts);
  }
}
