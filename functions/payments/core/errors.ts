import { DomainError } from '../../shared/domain-error';

export type PaymentErrorCode =
  | 'sessionNotFound'
  /** The order already has a session with another amount, currency or provider. */
  | 'termsMismatch'
  /** The session's status does not allow the operation (or it has no provider payment yet). */
  | 'operationNotAllowed'
  | 'providerRefused'
  | 'providerFailed'
  /** No credentials for the provider in Vault. */
  | 'providerUnconfigured'
  /** The webhook replay demo found no applied provider event to replay. */
  | 'nothingToReplay';

/** What payments refuses or cannot do. */
export class PaymentError extends DomainError<PaymentErrorCode> {}
