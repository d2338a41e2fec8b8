/**
 * The floor's trivial Lambda, for the benchmarks only (never part of the product stack).
 * As an API Gateway proxy target it answers 200 with a product-sized JSON body; as a Step
 * Functions task it returns `{outcome: 'ok'}` like a saga step. It logs one line per call,
 * as every real handler does (the emulator's worker waits longer for a silent handler).
 */
const BODY = JSON.stringify({
  id: '00000000-0000-4000-8000-000000000000',
  sku: 'ECHO-0000',
  name: 'Echo floor',
  category: 'bench',
  priceCents: 1000,
  stock: 100,
  reserved: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: '1',
});

export const handler = async (event: { httpMethod?: string; path?: string; step?: string }) => {
  if (event.httpMethod) {
    console.log(JSON.stringify({ level: 'INFO', message: 'echo', path: event.path }));
    return { statusCode: 200, headers: { 'content-type': 'application/json', etag: '"1"' }, body: BODY };
  }
  console.log(JSON.stringify({ level: 'INFO', message: 'step', step: event.step }));
  return { outcome: 'ok', detail: { step: event.step ?? null } };
};
