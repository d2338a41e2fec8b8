import { SNSClient, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { httpApi } from '../../shared/http';
import { notImplemented, serviceRuntime } from '../../shared/service';

const sns = new SNSClient({});
const runtime = serviceRuntime('payments', {
  postgres: true,
  extraChecks: {
    sns: async () => {
      await sns.send(new GetTopicAttributesCommand({ TopicArn: process.env.PAYMENTS_TOPIC_ARN }));
    },
  },
});

export const handler = httpApi(
  [
    runtime.healthRoute,
    ...notImplemented(['POST /webhooks/stripe', 'POST /webhooks/paypal', 'POST /internal/payment-sessions']),
  ],
  { beforeEach: runtime.beforeEach },
);
