import { X509Certificate, createVerify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import * as z from 'zod';
import { HttpProblem } from '../../shared/problem';
import type { ProviderEvent } from '../core/webhooks';

/**
 * PayPal webhook transmission signatures, verified locally (no call to verify-webhook-signature):
 * message = transmission id | transmission time | webhook id | CRC32 of the raw body (decimal),
 * signed RSA-SHA256 with the key of the certificate at paypal-cert-url, which must start with an
 * allow-listed prefix (PayPal's own hosts on AWS; the local fake's URL in tests).
 */
export const PAYPAL_TOLERANCE_SECONDS = 300;
export const DEFAULT_CERT_PREFIXES = ['https://api.paypal.com/', 'https://api.sandbox.paypal.com/', 'https://api-m.paypal.com/', 'https://api-m.sandbox.paypal.com/'];

const certCache = new Map<string, { pem: string; at: number }>();

async function fetchCert(url: string, allowed: string[]): Promise<string> {
  if (!allowed.some((prefix) => url.startsWith(prefix)) || url.includes('..') || url.includes('@')) {
    throw new HttpProblem(400, 'validation', 'PayPal certificate URL is not allow-listed');
  }
  const hit = certCache.get(url);
  if (hit && Date.now() - hit.at < 3600_000) return hit.pem;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(3000), redirect: 'error' });
  } catch {
    // PayPal's certificate host is unreachable: we cannot verify now (PayPal retries a non-2xx).
    throw new HttpProblem(502, 'upstreamUnavailable', 'The PayPal certificate could not be fetched; try again later');
  }
  if (!res.ok) throw new HttpProblem(400, 'validation', `PayPal certificate could not be fetched (${res.status})`);
  const pem = await res.text();
  certCache.set(url, { pem, at: Date.now() });
  return pem;
}

export interface PayPalHeaders {
  transmissionId?: string;
  transmissionTime?: string;
  transmissionSig?: string;
  certUrl?: string;
  authAlgo?: string;
}

export const paypalHeaders = (h: Record<string, string>): PayPalHeaders => ({
  transmissionId: h['paypal-transmission-id'],
  transmissionTime: h['paypal-transmission-time'],
  transmissionSig: h['paypal-transmission-sig'],
  certUrl: h['paypal-cert-url'],
  authAlgo: h['paypal-auth-algo'],
});

export const paypalSignedMessage = (transmissionId: string, transmissionTime: string, webhookId: string, rawBody: Buffer) =>
  `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(rawBody) >>> 0}`;

export async function verifyPayPalEvent(
  rawBody: Buffer,
  headers: PayPalHeaders,
  webhookId: string,
  allowedCertPrefixes: string[],
  now = Date.now(),
): Promise<{ id: string; event_type: string; resource?: Record<string, unknown> }> {
  const { transmissionId, transmissionTime, transmissionSig, certUrl, authAlgo } = headers;
  if (!transmissionId || !transmissionTime || !transmissionSig || !certUrl) {
    throw new HttpProblem(400, 'validation', 'Missing PayPal transmission headers');
  }
  if (authAlgo && authAlgo !== 'SHA256withRSA') throw new HttpProblem(400, 'validation', `Unsupported PayPal auth algorithm ${authAlgo}`);
  const sentAt = Date.parse(transmissionTime);
  if (!Number.isFinite(sentAt) || Math.abs(now - sentAt) > PAYPAL_TOLERANCE_SECONDS * 1000) {
    throw new HttpProblem(400, 'validation', 'PayPal transmission time is outside the tolerance');
  }
  // An RSA signature is 128-1024 bytes of base64: junk is refused before it can make us fetch anything.
  const sigBytes = /^[A-Za-z0-9+/]+={0,2}$/.test(transmissionSig) ? Buffer.from(transmissionSig, 'base64').length : 0;
  if (sigBytes < 128 || sigBytes > 1024) throw new HttpProblem(400, 'validation', 'PayPal transmission signature is malformed');
  const pem = await fetchCert(certUrl, allowedCertPrefixes);
  let ok = false;
  try {
    const cert = new X509Certificate(pem);
    if (Date.parse(cert.validTo) < now || Date.parse(cert.validFrom) > now) throw new Error('certificate expired or not yet valid');
    ok = createVerify('RSA-SHA256')
      .update(paypalSignedMessage(transmissionId, transmissionTime, webhookId, rawBody))
      .verify(cert.publicKey, transmissionSig, 'base64');
  } catch {
    ok = false;
  }
  if (!ok) throw new HttpProblem(400, 'validation', 'PayPal transmission signature verification failed');
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'validation', 'PayPal event body is not a webhook event');
  }
  // Signed is not the same as well-formed: what reaches Postgres must fit it (see PayPalEventShape).
  const shape = PayPalEventShape.safeParse(parsed);
  if (!shape.success) throw new HttpProblem(400, 'validation', 'PayPal event body is not a webhook event');
  return shape.data as { id: string; event_type: string; resource?: Record<string, unknown> };
}

const Text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\0'), 'must not contain NUL');
/** The fields paypalToProviderEvent reads, typed; ids fit a btree key and a text column. */
const PayPalEventShape = z
  .object({
    id: Text(255),
    event_type: Text(255),
    resource: z
      .object({
        id: Text(255).optional(),
        custom_id: Text(255).optional(),
        supplementary_data: z
          .object({
            related_ids: z
              .object({ order_id: Text(255).optional() })
              .passthrough()
              .optional(),
          })
          .passthrough()
          .optional(),
        purchase_units: z.array(z.object({ custom_id: Text(255).optional() }).passthrough()).optional(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

export function paypalToProviderEvent(event: { id: string; event_type: string; resource?: Record<string, unknown> }): ProviderEvent {
  const r = (event.resource ?? {}) as {
    id?: string;
    custom_id?: string;
    supplementary_data?: { related_ids?: { order_id?: string } };
    purchase_units?: Array<{ custom_id?: string }>;
  };
  const orderRef = event.event_type.startsWith('CHECKOUT.ORDER.') ? r.id : r.supplementary_data?.related_ids?.order_id;
  const outcome: ProviderEvent['outcome'] =
    event.event_type === 'PAYMENT.CAPTURE.COMPLETED' || event.event_type === 'CHECKOUT.ORDER.APPROVED'
      ? 'succeeded'
      : event.event_type === 'PAYMENT.CAPTURE.DENIED' || event.event_type === 'PAYMENT.CAPTURE.DECLINED'
        ? 'failed'
        : undefined;
  const sessionId = r.custom_id ?? r.purchase_units?.[0]?.custom_id;
  return {
    provider: 'paypal',
    eventId: event.id,
    eventType: event.event_type,
    providerRef: orderRef,
    outcome,
    // The buyer approved: funds are not collected until we capture the order (the saga's next step).
    authorizedOnly: event.event_type === 'CHECKOUT.ORDER.APPROVED',
    metadata: sessionId ? { sessionId } : {},
  };
}
