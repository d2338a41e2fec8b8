import { DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { HttpProblem } from './problem';

/**
 * A service's consumer queues and their DLQs, for its ops routes (GET /ops/dlq, POST
 * /ops/dlq/{queue}/redrive): each service reports and redrives only its own consumers (least
 * privilege: its role may touch no other queue); the BFF merges them for the /chaos page.
 *
 * Moves messages from checkout-mesh-<queue>-dlq back to checkout-mesh-<queue>. Each message is
 * sent to the main queue before it is deleted from the DLQ (a crash in between duplicates it;
 * consumers are idempotent by event id). Queues are looked up by name, not stack outputs.
 */
export async function redriveDlq(sqs: SQSClient, queue: string, owned: readonly string[], max = 500): Promise<{ queue: string; moved: number }> {
  if (!/^[a-z0-9][a-z0-9-]{0,60}$/.test(queue)) throw new HttpProblem(400, 'validation', 'Bad queue name');
  if (!owned.includes(queue)) throw new HttpProblem(404, 'notFound', `No consumer queue ${queue} here`);
  const urlOf = async (QueueName: string) => {
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
    } catch {
      throw new HttpProblem(404, 'notFound', `No queue ${QueueName}`);
    }
  };
  const mainUrl = await urlOf(`checkout-mesh-${queue}`);
  const dlqUrl = await urlOf(`checkout-mesh-${queue}-dlq`);
  let moved = 0;
  while (moved < max) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = got.Messages ?? [];
    if (messages.length === 0) break;
    for (const m of messages) {
      await sqs.send(new SendMessageCommand({ QueueUrl: mainUrl, MessageBody: m.Body ?? '', MessageAttributes: m.MessageAttributes }));
    }
    // One DeleteMessage each (not the batch call): the role is granted sqs:DeleteMessage, which
    // AWS also applies to batches, while MiniStack (AUTH=true) asks for sqs:DeleteMessageBatch.
    for (const m of messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
    moved += messages.length;
  }
  return { queue, moved };
}

/**
 * Depth of each consumer's DLQ (checkout-mesh-<queue>-dlq): visible plus in-flight messages,
 * SQS's approximate counts. A queue that does not exist is reported with depth null.
 */
export async function dlqDepths(sqs: SQSClient, queues: readonly string[]): Promise<{ queues: Array<{ queue: string; dlq: string; depth: number | null }> }> {
  const out = await Promise.all(
    queues.map(async (queue) => {
      const dlq = `checkout-mesh-${queue}-dlq`;
      try {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: dlq }));
        const { Attributes: a = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return { queue, dlq, depth: Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) };
      } catch {
        return { queue, dlq, depth: null };
      }
    }),
  );
  return { queues: out };
}
