import { type HttpProblem, problemFor, type ProblemSpec } from '../../shared/problem';
import { CatalogError, type CatalogErrorCode } from '../core/errors';

/** The catalog's refusals over HTTP (docs/catalog.md: 404, 428 without If-Match, 412 when stale, 409), in catalog's handler and the BFF's race. */
const CATALOG_PROBLEMS: Record<CatalogErrorCode, ProblemSpec> = {
  productNotFound: { status: 404, type: 'notFound' },
  ifMatchRequired: { status: 428, type: 'preconditionRequired' },
  staleEtag: { status: 412, type: 'preconditionFailed' },
  insufficientStock: { status: 409, type: 'insufficientStock', title: 'Insufficient stock' },
  reservationConflict: { status: 409, type: 'conflict' },
  productUnreadable: { status: 502, type: 'upstreamUnavailable' },
};

export const catalogProblem = (err: unknown): HttpProblem | undefined =>
  err instanceof CatalogError ? problemFor(err, CATALOG_PROBLEMS, err.currentEtag ? { etag: err.currentEtag } : {}) : undefined;
