// Claims card: two requests with one Idempotency-Key at once, then a retry and a changed body: one effect.
import { problemType } from './kit.js';
import { replaySequence } from './replay-sequence.js';

export const claimsDemo = {
  id: 'claims',
  label: 'Duplicate claims',
  about:
    'Two requests with one new Idempotency-Key arrive together: claims lets one run (the other waits with 409 or gets the stored answer); a later retry replays the first outcome; another body with the key is refused. The effect counter ends at 1.',
  async run(log) {
    const { key, attempts, effects } = await replaySequence('reference-claims', { concurrent: true });
    log(`Key ${key.slice(0, 8)}…`);
    for (const a of attempts) {
      const what = a.status < 300 ? `counter at ${a.body?.value}${a.replayed ? ', replayed' : ''}` : problemType(a.body);
      log(`${a.label}: ${a.status} ${what}`, { ok: [200, 201, 409, 422].includes(a.status) });
    }
    const retry = attempts.find((a) => a.label === 'retry, same body');
    log(`The retry is the first outcome, replayed: ${retry.replayed === 'true'}`, { ok: retry.replayed === 'true' });
    log(`Effects: ${effects} (four requests, one key)`, { ok: effects === 1 });
  },
};
