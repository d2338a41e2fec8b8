/** A chaos rule as POST /api/chaos/rules takes it (shared/chaos.ts NewRuleSchema). */
export interface ChaosRuleInput {
  target: { service: string; route?: string; step?: string; orderId?: string };
  fault: { type: 'latency'; latencyMs: number } | { type: 'error'; status: number } | { type: 'exception'; message?: string } | { type: 'timeout'; hangMs?: number };
  probability?: number;
  ttlSeconds?: number;
}

/**
 * Runs `body` while a chaos rule set through the public API (as an admin) is in place, and removes
 * the rule afterwards, whatever happened. The rule's own ttlSeconds bounds it if the removal fails.
 */
export async function withChaosRule<T>(api: string, adminToken: string, rule: ChaosRuleInput, body: (ruleId: string) => Promise<T>): Promise<T> {
  const auth = { authorization: `Bearer ${adminToken}` };
  const created = await fetch(`${api}/api/chaos/rules`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(rule) });
  if (created.status !== 201) throw new Error(`POST /api/chaos/rules answered ${created.status}: ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  try {
    return await body(id);
  } finally {
    await fetch(`${api}/api/chaos/rules/${id}`, { method: 'DELETE', headers: auth }).then((r) => r.text());
  }
}
