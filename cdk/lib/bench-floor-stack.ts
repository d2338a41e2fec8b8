import path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { LambdaIntegration, MethodLoggingLevel, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Chain, DefinitionBody, JsonPath, StateMachine, StateMachineType, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { LAMBDA_BUNDLE_TARGET, LAMBDA_RUNTIME } from './lambda-runtime';

export interface BenchFloorProps extends StackProps {
  /** Trivial Task states in the floor state machine (the saga's happy path invokes its step Lambda 5 times). */
  sagaSteps: number;
}

/**
 * Bench-only stack (`npm run bench` deploys it next to the product stack on the emulator):
 * the floors the benchmarks compare our paths with.
 * - A REST API (same kind and stage settings as the public API) proxying every path to a
 *   trivial echo Lambda: the cost of API Gateway → Lambda on this emulator.
 * - A Standard state machine of N sequential trivial Lambda Task states, shaped like the
 *   saga's tasks (lambda:invoke, ResultSelector, ResultPath): the cost of N steps.
 */
export class BenchFloorStack extends Stack {
  constructor(scope: Construct, id: string, props: BenchFloorProps) {
    super(scope, id, props);
    const echo = new NodejsFunction(this, 'Echo', {
      entry: path.resolve(__dirname, '..', '..', 'bench', 'floor', 'echo.ts'),
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      timeout: Duration.seconds(15),
      memorySize: 256,
      logGroup: new LogGroup(this, 'EchoLogs', { retention: RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY }),
      // Same bundling as ServiceFunction, so the floor pays the same per-invocation costs.
      bundling: { forceDockerBundling: false, minify: true, target: LAMBDA_BUNDLE_TARGET, format: OutputFormat.CJS, logLevel: LogLevel.ERROR },
    });

    const api = new RestApi(this, 'EchoApi', {
      restApiName: 'checkout-mesh-bench-echo',
      cloudWatchRole: false,
      deployOptions: { stageName: 'prod', loggingLevel: MethodLoggingLevel.OFF, tracingEnabled: true },
    });
    const toEcho = new LambdaIntegration(echo);
    api.root.addMethod('ANY', toEcho);
    api.root.addProxy({ defaultIntegration: toEcho, anyMethod: true });

    const steps = Array.from(
      { length: props.sagaSteps },
      (_, i) =>
        new LambdaInvoke(this, `Step${i + 1}`, {
          lambdaFunction: echo,
          payload: TaskInput.fromObject({ step: `Step${i + 1}`, 'orderId.$': '$.orderId' }),
          resultSelector: { 'outcome.$': '$.Payload.outcome', 'detail.$': '$.Payload.detail' },
          resultPath: JsonPath.stringAt(`$.step${i + 1}`),
          taskTimeout: undefined,
        }),
    );
    const chain = steps.slice(1).reduce<Chain>((c, s) => c.next(s), Chain.start(steps[0]));
    const sm = new StateMachine(this, 'FloorSaga', {
      stateMachineName: `${id}-floor-saga`,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(chain),
      tracingEnabled: true,
    });

    new CfnOutput(this, 'EchoApiId', { value: api.restApiId });
    new CfnOutput(this, 'EchoApiStage', { value: api.deploymentStage.stageName });
    new CfnOutput(this, 'EchoFunctionName', { value: echo.functionName });
    new CfnOutput(this, 'FloorStateMachineArn', { value: sm.stateMachineArn });
    new CfnOutput(this, 'FloorSagaSteps', { value: String(props.sagaSteps) });
  }
}
