import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import Stripe from 'stripe';
import { awsClientConfig, endpoints, localSecrets } from '../support/endpoints';
import { registerAndLogin, send } from '../support/hostile';

/**
 * Secrets never reach the logs. After exercising login, refresh, a protected call, DB-backed
 * reads, a failed login, signed and tampered webhooks and a request that fails validation, the
 * test gathers every Lambda's log (the emulator's CloudWatch Logs, where each function's console
 * output lands) and the local component logs (.local/logs), and scans them for: the Vault root
 * and service tokens and the vault_admin DB password (.local/secrets.json), the JWT private key
 * material (Vault KV), the Stripe webhook secret and API key and the PayPal webhook id, the
 * user's password, refresh token and access-token signature, and anything shaped like a DB lease
 * password (Vault's generated `A1a-...` passwords, `"password":"..."`, credentials in a URL).
 */
jest.setTimeout(120_000);
const e = endpoints();
const ROOT = path.resolve(__dirname, '..', '..');
const logs = new CloudWatchLogsClient(awsClientConfig());

async function vaultKv(p: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${e.vaultAddr}/v1/secret/data/${p}`, { headers: { 'X-Vault-Token': e.vaultToken } });
  return res.ok ? ((await res.json()) as { data: { data: Record<string, unknown> } }).data.data : {};
}

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, out));
  return out;
}

/** Every event of every log group in the emulator since `since` (ms), by group. */
async function lambdaLogs(since: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const groups = (await logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? [];
  for (const g of groups) {
    const lines: string[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 50; page++) {
      const r = await logs.send(new FilterLogEventsCommand({ logGroupName: g.logGroupName, startTime: since, nextToken }));
      lines.push(...(r.events ?? []).map((ev) => ev.message ?? ''));
      nextToken = r.nextToken;
      if (!nextToken) break;
    }
    out.set(g.logGroupName!, lines);
  }
  return out;
}

describe('secrets never appear in logs', () => {
  it('after login, refresh, webhooks and DB-backed calls, no log line holds a secret', async () => {
    const started = Date.now() - 1000;
    const api = e.apiBaseUrl;
    const password = `pw-${randomUUID()}`;
    const user = await registerAndLogin(api, `logs-${randomUUID()}@example.test`, password);
    const refreshed = JSON.parse(
      (await send(`${api}/api/auth/refresh`, 'POST', { body: JSON.stringify({ refreshToken: user.refreshToken }), contentType: 'application/json' })).text,
    ) as { accessToken: string; refreshToken: string };
    expect((await send(`${api}/api/me`, 'GET', { headers: { authorization: `Bearer ${refreshed.accessToken}` } })).status).toBe(200);
    // A refresh-token replay (revokes the family) and a wrong password: the paths that log warnings.
    await send(`${api}/api/auth/refresh`, 'POST', { body: JSON.stringify({ refreshToken: user.refreshToken }), contentType: 'application/json' });
    await send(`${api}/api/auth/login`, 'POST', { body: JSON.stringify({ email: user.email, password: `${password}-wrong` }), contentType: 'application/json' });
    // DB-backed reads and a validation failure.
    expect((await send(`${api}/api/products?q=mug`, 'GET')).status).toBe(200);
    expect((await send(`${api}/api/products/00000000-0000-4000-8000-000000000101`, 'GET')).status).toBe(200);
    await send(`${api}/api/orders`, 'POST', {
      body: '{"items":"nope"}',
      contentType: 'application/json',
      headers: { authorization: `Bearer ${refreshed.accessToken}`, 'idempotency-key': randomUUID() },
    });
    // A signed webhook (DB write) and a tampered one.
    const stripeKv = await vaultKv('payments/stripe');
    const body = JSON.stringify({ id: `evt_logs_${randomUUID()}`, object: 'event', type: 'payment_intent.succeeded', data: { object: { id: `pi_logs_${Date.now()}` } } });
    const sig = new Stripe('sk_test_logs').webhooks.generateTestHeaderString({ payload: body, secret: String(stripeKv.webhookSecret) });
    expect((await send(`${api}/webhooks/stripe`, 'POST', { body, contentType: 'application/json', headers: { 'stripe-signature': sig } })).status).toBe(200);
    expect(
      (await send(`${api}/webhooks/stripe`, 'POST', { body: body.replace('logs', 'l0gs'), contentType: 'application/json', headers: { 'stripe-signature': sig } }))
        .status,
    ).toBe(400);

    // What must never be logged.
    const secrets = localSecrets();
    const signing = await vaultKv('identity/signing-keys');
    const privateParts = ((signing.keys ?? []) as { privateJwk?: { d?: string } }[]).map((k) => k.privateJwk?.d).filter((d): d is string => !!d);
    expect(privateParts.length).toBeGreaterThan(0);
    // OpenBao's unseal key and initial root token (scripts/lib/infra.ts), when the OpenBao is ours.
    const initFile = path.join(ROOT, '.local', 'openbao', 'init.json');
    const baoInit = fs.existsSync(initFile) ? (JSON.parse(fs.readFileSync(initFile, 'utf8')) as { keys: string[]; rootToken: string }) : undefined;
    const needles: Record<string, string> = {
      ...(baoInit ? { openbaoInitialRootToken: baoInit.rootToken, ...Object.fromEntries(baoInit.keys.map((k, i) => [`openbaoUnsealKey[${i}]`, k])) } : {}),
      vaultRootToken: secrets.vaultRootToken,
      vaultDbPassword: secrets.vaultDbPassword,
      ...Object.fromEntries(Object.entries(secrets.serviceTokens).map(([k, v]) => [`serviceToken.${k}`, v])),
      ...Object.fromEntries(privateParts.map((d, i) => [`jwtPrivateKey.d[${i}]`, d])),
      ...Object.fromEntries(strings(stripeKv).map((v, i) => [`stripe[${i}]`, v])),
      ...Object.fromEntries(strings(await vaultKv('payments/paypal')).map((v, i) => [`paypal[${i}]`, v])),
      userPassword: password,
      refreshToken: user.refreshToken,
      refreshedRefreshToken: refreshed.refreshToken,
      accessTokenSignature: refreshed.accessToken.split('.')[2],
    };
    const patterns: Record<string, RegExp> = {
      vaultGeneratedPassword: /A1a-[A-Za-z0-9]{16}/,
      passwordField: /"password"\s*:\s*"[^"]+"/i,
      credentialsInUrl: /postgres(ql)?:\/\/[^:/\s"]+:[^@\s"]+@/i,
      privateKeyPem: /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
      bearerHeader: /authorization"?\s*[:=]\s*"?Bearer\s+[A-Za-z0-9._-]{20,}/i,
    };

    // Give the emulator a moment to store the last invocations' output.
    await new Promise((r) => setTimeout(r, 1500));
    const corpus = new Map<string, string[]>(await lambdaLogs(started));
    for (const f of fs.readdirSync(path.join(ROOT, '.local', 'logs'))) {
      corpus.set(`.local/logs/${f}`, fs.readFileSync(path.join(ROOT, '.local', 'logs', f), 'utf8').split('\n'));
    }
    // The scan is over real output: the functions we just called have log lines from this run.
    const lambdaLines = [...corpus].filter(([name]) => !name.startsWith('.local/'));
    for (const fn of ['Bff', 'Identity', 'Payments', 'Catalog']) {
      expect({ fn, lines: lambdaLines.filter(([n]) => n.includes(`/${fn}Api`)).reduce((a, [, l]) => a + l.length, 0) > 0 }).toEqual({ fn, lines: true });
    }

    const found: string[] = [];
    for (const [source, lines] of corpus) {
      for (const line of lines) {
        for (const [name, value] of Object.entries(needles))
          if (value && value.length >= 8 && line.includes(value)) found.push(`${name} in ${source}: ${line.slice(0, 160)}`);
        for (const [name, re] of Object.entries(patterns)) if (re.test(line)) found.push(`${name} in ${source}: ${line.slice(0, 160)}`);
      }
    }
    expect(found).toEqual([]);
  });
});
