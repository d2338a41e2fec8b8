import { DomainError } from '../../shared/domain-error';

export type IdentityErrorCode = 'unauthorized' | 'tooManyLogins';

/** Which login throttle refused, and for how long (the 429's Retry-After and RateLimit headers). */
export interface LoginThrottle {
  policy: 'login-ip' | 'login-account';
  limit: number;
  windowSec: number;
  retryAfterSec: number;
}

/** What identity refuses: bad credentials or tokens (one uniform message each), or too many logins. */
export class IdentityError extends DomainError<IdentityErrorCode> {
  constructor(
    code: IdentityErrorCode,
    message: string,
    readonly throttle?: LoginThrottle,
  ) {
    super(code, message);
  }
}
