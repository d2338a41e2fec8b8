import { SFNClient, DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { httpApi } from '../../shared/http';
import { notImplemented, serviceRuntime } from '../../shared/service';

const sfn = new SFNClient({});
const runtime = serviceRuntime('orders', {
  postgres: true,
  extraChecks: {
    stepFunctions: async () => {
      const sm = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: process.env.STATE_MACHINE_ARN }));
      return { stateMachine: sm.name, status: sm.status };
    },
  },
});

export const handler = httpApi(
  [runtime.healthRoute, ...notImplemented(['POST /orders', 'GET /orders/{id}', 'GET /orders/{id}/trace'])],
  { beforeEach: runtime.beforeEach },
);
