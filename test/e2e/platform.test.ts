import { ReceiveMessageCommand, SendMessageCommand, SQSClient, GetQueueAttributesCommand, GetQueueUrlCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { awsClientConfig, endpoints } from '../support/endpoints';

/** The deployed stack through the public API and the emulator's own APIs. */
const e = endpoints();

describe('public API', () => {
  it('GET /api/health reports every service and dependency up', async () => {
    const res = await fetch(e.healthUrl);
    const body = (await res.json()) as { status: string; services: Record<string, { status: string; report: { dependencies: Record<string, { status: string }> } }> };
    expect(res.status).toBe(200);
    expect(Object.keys(body.services).sort()).toEqual(['catalog', 'chaos', 'claims', 'identity', 'orders', 'payments']);
    for (const [name, svc] of Object.entries(body.services)) {
      expect({ name, status: svc.status }).toEqual({ name, status: 'up' });
      for (const dep of Object.values(svc.report.dependencies)) expect(dep.status).toBe('up');
    }
    // Postgres is reached with Vault-leased users, never a static login.
    expect(JSON.stringify(body)).toMatch(/"user":"v-token-sv-catalog-/);
  });

  it('answers an unknown route with 404 problem+json and a wrong method with 405 + Allow', async () => {
    const missing = await fetch(`${e.apiBaseUrl}/api/no-such-thing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ status: 404, type: expect.stringMatching(/not-found$/) });

    const wrong = await fetch(`${e.apiBaseUrl}/api/health`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('each service answers /health on its own HTTP API', async () => {
    for (const [name, base] of Object.entries(e.services)) {
      const res = await fetch(`${base}/health`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
  });
});

describe('event mesh', () => {
  it('moves a poison message to the DLQ after maxReceiveCount receives', async () => {
    const sqs = new SQSClient(awsClientConfig());
    const urlOf = async (QueueName: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
    const queueUrl = await urlOf('checkout-mesh-orders-payment-events');
    const dlqUrl = await urlOf('checkout-mesh-orders-payment-events-dlq');
    expect(queueUrl).toBeDefined();
    expect(dlqUrl).toBeDefined();
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
    const maxReceiveCount = Number(JSON.parse(attrs.Attributes!.RedrivePolicy!).maxReceiveCount);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);

    const marker = `poison-${Date.now()}`;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ marker }) }));
    // A consumer that always fails: receive and never delete, with the message visible again at once.
    let receives = 0;
    for (let i = 0; i < maxReceiveCount * 5 && receives < maxReceiveCount; i++) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
      receives += (got.Messages ?? []).filter((m) => m.Body?.includes(marker)).length;
    }
    expect(receives).toBe(maxReceiveCount);

    let inDlq = false;
    for (let i = 0; i < 10 && !inDlq; i++) {
      const main = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1 }));
      expect((main.Messages ?? []).some((m) => m.Body?.includes(marker))).toBe(false);
      const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
      inDlq = (dead.Messages ?? []).some((m) => m.Body?.includes(marker));
    }
    expect(inDlq).toBe(true);
  });
});
