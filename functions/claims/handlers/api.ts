import { json, parseJsonBody, route } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { serviceDb } from '../../shared/db';
import { serviceRuntime } from '../../shared/service';
import { ClaimStore } from '../adapters/pg-store';
import { ClaimRequest, claimsSettings, OutcomeRequest } from '../core/model';

const runtime = serviceRuntime('claims', { postgres: serviceDb });
let store: ClaimStore | undefined;
const claims = () => (store ??= new ClaimStore(runtime.db(), claimsSettings(runtime.cfg)));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const claimId = (raw: string) => {
  if (!UUID.test(raw)) throw new HttpProblem(404, 'notFound', `No claim ${raw}`);
  return raw;
};

export const handler = runtime.api([
  // Claiming is idempotent: the same (principal, key) twice is a read of the existing claim.
  route('POST', '/claims', async (req) => {
    const body = parseJsonBody(req, ClaimRequest);
    const out = await claims().claim(body);
    return json(out.outcome === 'acquired' ? 201 : 200, out, { 'cache-control': 'no-store' });
  }),
  route('PUT', '/claims/{id}/outcome', async (req) => {
    const id = claimId(req.params.id);
    const body = parseJsonBody(req, OutcomeRequest);
    const r = await claims().complete(id, body);
    if (r.result === 'not_found') throw new HttpProblem(404, 'notFound', `No claim ${id}`);
    if (r.result === 'lease_lost') throw new HttpProblem(409, 'conflict', 'The claim was taken over by another caller');
    return json(200, { claimId: id, ...r });
  }),
  route('DELETE', '/claims/{id}', async (req) => {
    const id = claimId(req.params.id);
    const r = await claims().release(id, req.query.leaseToken);
    if (r.result === 'not_found') throw new HttpProblem(404, 'notFound', `No claim ${id}`);
    if (r.result === 'lease_lost') throw new HttpProblem(409, 'conflict', 'The claim was taken over by another caller');
    return json(200, { claimId: id, ...r });
  }),
  // A controllable failing downstream for breaker drills (only with failure plans enabled):
  // answers the given status after an optional delay.
  route('GET', '/faults/{status}', async (req) => {
    if (!runtime.cfg.FAILURE_PLANS_ENABLED) throw new HttpProblem(404, 'notFound', 'Failure plans are disabled');
    const status = Number(req.params.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new HttpProblem(400, 'validation', 'status must be 200..599');
    const delay = Math.min(Number(req.query.delayMs ?? 0) || 0, 5000);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return json(status, { status, delayMs: delay });
  }),
]);
