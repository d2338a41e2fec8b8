import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Publish } from '../../shared/events';
import { logger } from '../../shared/logger';

/** SNS publish with the event type as a message attribute, so subscription filter policies match. */
export function snsPublisher(sns: SNSClient, topicArn: string): Publish {
  return async (event) => {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: event.type },
          source: { DataType: 'String', StringValue: event.source },
        },
      }),
    );
  };
}

/**
 * Kicks the dispatcher right after a commit (asynchronous invoke, fire and forget).
 * A lost kick only delays delivery until the scheduled sweep.
 */
export async function kickDispatcher(lambda: LambdaClient, functionName: string | undefined): Promise<void> {
  if (!functionName) return;
  try {
    await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from('{"source":"after-commit"}') }));
  } catch (err) {
    logger.warn('dispatcher kick failed; the sweep will publish', { error: (err as Error).message });
  }
}
