/** The port every payment provider adapter implements (Stripe and PayPal). */
export interface CreateSessionInput {
  sessionId: string;
  orderId: string;
  amountCents: number;
  currency: string;
}

export interface ProviderSession {
  providerRef: string;
  /** Stripe: what the browser confirms the PaymentIntent with. */
  clientSecret?: string;
  /** PayPal: where the buyer approves the order. */
  approveUrl?: string;
  status: string;
}

export type Operation = 'capture' | 'cancel' | 'refund';

/** A provider refused the operation for the payment's state (e.g. capture before authorisation). */
export class ProviderRejected extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ProviderRejected';
  }
}

export interface PaymentGateway {
  readonly provider: 'stripe' | 'paypal';
  createSession(input: CreateSessionInput, idempotencyKey: string): Promise<ProviderSession>;
  /** Each call carries an idempotency key so a retried call is not repeated at the provider. */
  operate(op: Operation, providerRef: string, idempotencyKey: string): Promise<{ providerStatus: string; providerId?: string }>;
  /** The provider's copy of one of its events, as the JSON it delivers (the webhook replay demo; Stripe only). */
  fetchEvent?(eventId: string): Promise<string>;
}
