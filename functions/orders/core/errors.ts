import { DomainError } from '../../shared/domain-error';

export type OrderErrorCode = 'unknownProducts';

/** What placing an order refuses. */
export class OrderError extends DomainError<OrderErrorCode> {}
