import * as z from 'zod';
import { addRule, clearRules, hitCounts, listRules, NewRuleSchema, removeRule } from '../../shared/chaos';
import { httpApi, json, parseJsonBody, route, validate } from '../../shared/http';
import { HttpProblem } from '../../shared/problem';
import { serviceRuntime } from '../../shared/service';

/**
 * The chaos service: CRUD over the fault rules every handler reads. It trusts its caller
 * for authorization; the BFF lets anyone read and only admins change rules.
 */
const runtime = serviceRuntime('chaos', { redis: true });
const RuleId = z.string().uuid();

export const handler = httpApi([
  runtime.healthRoute,
  route('GET', '/rules', async () => {
    const redis = runtime.redis();
    const [rules, hits] = await Promise.all([listRules(redis), hitCounts(redis)]);
    return json(200, { rules: rules.map((r) => ({ ...r, hits: hits[r.id] ?? 0 })) }, { 'cache-control': 'no-store' });
  }),
  route('POST', '/rules', async (req) => {
    const input = parseJsonBody(req, NewRuleSchema);
    const rule = await addRule(runtime.redis(), input);
    return json(201, rule, { location: `/rules/${rule.id}` });
  }),
  route('DELETE', '/rules/{id}', async (req) => {
    const id = validate(RuleId, req.params.id, 'path.id');
    if (!(await removeRule(runtime.redis(), id))) throw new HttpProblem(404, 'notFound', `No chaos rule ${id}`);
    return { status: 204 };
  }),
  // The kill switch: removes every rule at once.
  route('DELETE', '/rules', async () => json(200, { cleared: await clearRules(runtime.redis()) })),
]);
