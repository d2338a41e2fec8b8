// The Idempotency-Key sequence shared by /chaos and the BFF and Claims cards: one key, the same POST
// again, then another body; the demo route's effect is a counter, read back at the end.
import { api } from '../api.js';

const send = (key, body) => api('api/demo/idempotent-echo', { method: 'POST', body, auth: false, headers: { 'idempotency-key': key }, accept: [409, 422] });

/** Answers [{ label, status, replayed, body }] for the three requests and the counter's final value. */
export async function replaySequence(origin, { concurrent = false } = {}) {
  const key = crypto.randomUUID();
  const counterId = `${origin}-${crypto.randomUUID()}`;
  const body = { counterId, note: `sent from ${origin}` };
  const answer = (label, r) => ({ label, status: r.status, replayed: r.headers.get('idempotent-replayed'), body: r.body });
  const attempts = [];
  if (concurrent) {
    // Two at once: one runs the effect; the other either waits its turn (409 + Retry-After while the
    // first is in flight) or arrives after it and gets the stored answer.
    const [a, b] = await Promise.all([send(key, body), send(key, body)]);
    attempts.push(answer('first of two at once', a), answer('second of two at once', b));
  } else {
    attempts.push(answer('first', await send(key, body)));
  }
  attempts.push(answer('retry, same body', await send(key, body)));
  attempts.push(answer('same key, other body', await send(key, { ...body, note: 'changed' })));
  const counter = await api(`api/demo/idempotent-echo/${encodeURIComponent(counterId)}`, { auth: false });
  return { key, counterId, attempts, effects: counter.body.value };
}
