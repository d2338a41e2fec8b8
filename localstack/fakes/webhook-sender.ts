/**
 * Webhook delivery as the providers do it, shared by the Stripe and PayPal fakes: POST the
 * event, signed afresh on every attempt, and retry a non-2xx answer or a network error with
 * exponential backoff (1 s, 2 s, 4 s, ...: real providers retry for days, a fake a few times,
 * enough for a cold stack).
 */
export interface Delivery {
  eventId: string;
  type: string;
  status: number | string;
  attempt: number;
}

export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly opts: { maxAttempts: number; log: (line: string) => void }) {}

  send(url: string, event: { id: string; type: string }, body: string, headers: () => Record<string, string>, onDelivered?: () => void, attempt = 1): void {
    if (this.closed) return;
    fetch(url, { method: 'POST', headers: headers(), body, signal: AbortSignal.timeout(30_000) })
      .then(async (res) => {
        await res.text();
        return res.status;
      })
      .catch((err: Error) => err.message)
      .then((status) => {
        this.deliveries.push({ eventId: event.id, type: event.type, status, attempt });
        this.opts.log(`webhook ${event.type} ${event.id} attempt ${attempt} -> ${status}`);
        if (typeof status === 'number' && status >= 200 && status < 300) {
          onDelivered?.();
          return;
        }
        if (attempt < this.opts.maxAttempts && !this.closed) {
          const t = setTimeout(
            () => {
              this.timers.delete(t);
              this.send(url, event, body, headers, onDelivered, attempt + 1);
            },
            1000 * 2 ** (attempt - 1),
          );
          this.timers.add(t);
        }
      });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
  }
}
