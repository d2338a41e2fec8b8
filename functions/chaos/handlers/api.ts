import * as z from 'zod';
import { addRule, clearRules, hitCounts, listRules, NewRuleSchema, removeRule } from '../../shared/chaos';
import { json, parseJsonBody, route, validate } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { redisReady } from '../../shared/redis';
import { serviceRuntime } from '../../shared/service';

/**
 * The chaos service: CRUD over the fault rules every handler reads. Only IAM-granted callers
 * reach it (the BFF, which lets anyone read and only admins change rules).
 */
const runtime = serviceRuntime('chaos', { redis: true });
const RuleId = z.string().uuid();
/** The client once connected: on a cold start the first command would race the connect (no offline queue) and fail with a 500. */
const redis = async () => {
  const r = runtime.redis();
  await redisReady(r);
  return r;
};

export const handler = runtime.api([
  route('GET', '/rules', async () => {
    const r = await redis();
    const [rules, hits] = await Promise.all([listRules(r), hitCounts(r)]);
    return json(200, { rules: rules.map((r) => ({ ...r, hits: hits[r.id] ?? 0 })) }, { 'cache-control': 'no-store' });
  }),
  route('POST', '/rules', async (req) => {
    const input = parseJsonBody(req, NewRuleSchema);
    const rule = await addRule(await redis(), input);
    return json(201, rule, { location: `/rules/${rule.id}` });
  }),
  route('DELETE', '/rules/{id}', async (req) => {
    const id = validate(RuleId, req.params.id, 'path.id');
    if (!(await removeRule(await redis(), id))) throw new HttpProblem(404, 'notFound', `No chaos rule ${id}`);
    return { status: 204 };
  }),
  // The kill switch: removes every rule at once.
  route('DELETE', '/rules', async () => json(200, { cleared: await clearRules(await redis()) })),
]);
