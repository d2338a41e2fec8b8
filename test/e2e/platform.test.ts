import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { awsClientConfig, endpoints } from '../support/endpoints';
import { signedFetch } from '../support/signed-fetch';

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
      // IAM-authorized: signed it answers, unsigned it is refused before the Lambda runs.
      const res = await signedFetch(`${base}/health`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      const unsigned = await fetch(`${base}/health`);
      expect({ name, status: unsigned.status }).toEqual({ name, status: 403 });
    }
  });
});

describe('event mesh', () => {
  const sqs = new SQSClient(awsClientConfig());
  const urlOf = async (QueueName: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
  afterAll(() => sqs.destroy());

  it('gives every deployed consumer queue its DLQ (the template intent survives the emulator)', async () => {
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: await urlOf('checkout-mesh-orders-payment-events-dlq'), AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn;
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: await urlOf('checkout-mesh-orders-payment-events'), AttributeNames: ['RedrivePolicy'] }));
    const policy = JSON.parse(attrs.Attributes!.RedrivePolicy!);
    expect(policy.deadLetterTargetArn).toBe(dlqArn);
    expect(Number(policy.maxReceiveCount)).toBeGreaterThan(1);
  });

  it('moves a poison message to the DLQ after maxReceiveCount receives', async () => {
    // A queue pair of this test's own, configured like the deployed ones, so no consumer competes.
    const suffix = `${process.pid}-${Date.now()}`;
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `e2e-poison-dlq-${suffix}` }))).QueueUrl!;
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const maxReceiveCount = 3;
    const queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: `e2e-poison-${suffix}`,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }) },
        }),
      )
    ).QueueUrl!;
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ poison: true }) }));
      // A consumer that always fails: receive and never delete, visible again at once.
      let receives = 0;
      for (let i = 0; i < maxReceiveCount * 5 && receives < maxReceiveCount; i++) {
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1 }));
        receives += got.Messages?.length ?? 0;
      }
      expect(receives).toBe(maxReceiveCount);
      let inDlq = false;
      for (let i = 0; i < 10 && !inDlq; i++) {
        const main = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1 }));
        expect(main.Messages ?? []).toEqual([]);
        const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
        inDlq = (dead.Messages ?? []).some((m) => m.Body?.includes('poison'));
      }
      expect(inDlq).toBe(true);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
      await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => undefined);
    }
  });
});
