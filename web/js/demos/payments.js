// Payments card (admin): the latest applied Stripe event delivered again, signed, through the webhook route.
import { api, session } from '../api.js';
import { fmtTime } from '../dom.js';

const rows = (list) => list.map((r) => `#${r.seq} ${r.eventType} (${r.sentAt ? `dispatched ${fmtTime(r.sentAt)}` : 'waiting for the dispatcher'})`).join('; ') || 'none';

export const paymentsDemo = {
  id: 'payments',
  label: 'Replay a signed webhook',
  about:
    'Admin only. Takes the latest Stripe event payments applied, fetches it from Stripe, signs it with the webhook secret and delivers it again through the webhook route: acknowledged as a duplicate, no second outbox row. Place and pay an order first if none exists.',
  async run(log) {
    if (!session()?.isAdmin) {
      log('Sign in as an admin (on the store or /chaos) to run this demo.', { ok: false });
      return;
    }
    const { body } = await api('api/ops/webhooks/stripe/replay', { method: 'POST', auth: true });
    log(`First delivery: ${body.event.eventType} ${body.event.eventId}, applied at ${fmtTime(body.event.receivedAt)}`, { ok: true });
    log(`Its outbox row(s): ${rows(body.outboxBefore)}`, { ok: body.outboxBefore.length === 1 });
    log(`Replay, signed and delivered again: ${body.replay.status}, duplicate: ${body.replay.duplicate} (${body.replay.outcome})`, { ok: body.replay.duplicate });
    log(`Outbox afterwards: ${rows(body.outboxAfter)}`, { ok: body.outboxAfter.length === body.outboxBefore.length });
  },
};
