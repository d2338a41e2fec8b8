// BFF card: Idempotency-Key replay, a rate-limit refusal with its headers, and every downstream's breaker.
import { api } from '../api.js';
import { header, problemType } from './kit.js';
import { replaySequence } from './replay-sequence.js';

export const bffDemo = {
  id: 'bff',
  label: 'Replay, rate limit, breakers',
  about:
    'Sends one POST twice with one Idempotency-Key (the second is a replay), spends a fresh demo rate-limit bucket until it refuses, and reads the circuit breakers.',
  async run(log) {
    const { attempts, effects } = await replaySequence('reference-bff');
    const [first, retry, other] = attempts;
    log(`POST with a new Idempotency-Key: ${first.status}, counter at ${first.body?.value}`, { ok: first.status === 201 });
    log(`Same key and body again: ${retry.status}, Idempotent-Replayed: ${retry.replayed ?? 'absent'}, counter at ${retry.body?.value}`, {
      ok: retry.replayed === 'true' && retry.body?.value === first.body?.value,
    });
    log(`Same key, another body: ${other.status} ${problemType(other.body)}`, { ok: other.status === 422 });
    log(`Effects of the three requests: ${effects}`, { ok: effects === 1 });

    // The demo class holds 5 tokens (1 more per second); a fresh bucket per run starts full.
    const bucket = crypto.randomUUID().slice(0, 8);
    const statuses = [];
    let refusal;
    for (let i = 0; i < 10 && !refusal; i++) {
      const r = await api(`api/demo/rate-limited?bucket=${bucket}`, { auth: false, accept: [429] });
      statuses.push(r.status);
      if (r.status === 429) refusal = r;
    }
    log(`Rate-limit burst: ${statuses.join(', ')}`, { ok: Boolean(refusal) });
    if (refusal) {
      log(
        `The refusal: ${problemType(refusal.body)}; Retry-After: ${header(refusal, 'retry-after')}; RateLimit: ${header(refusal, 'ratelimit')}; RateLimit-Policy: ${header(refusal, 'ratelimit-policy')}`,
        { ok: header(refusal, 'retry-after') !== '–' },
      );
    }

    // Every BFF instance publishes its breakers (Redis); the answer merges them: the worst state per downstream.
    const { body } = await api('api/ops/breakers', { auth: false });
    const downstreams = (body.downstreams || []).filter((d) => !d.name.startsWith('drill:'));
    const states = downstreams.map((d) => `${d.name} ${d.state}${d.openOn ? ` (open on ${d.openOn})` : ''}`);
    log(`Breakers over ${body.instances?.length ?? 1} BFF instance(s), answered by ${body.instance}: ${states.join(', ') || 'none yet'}`, {
      ok: downstreams.length > 0,
    });
  },
};
