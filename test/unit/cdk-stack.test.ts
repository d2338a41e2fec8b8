import fs from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CheckoutMeshStack } from '../../cdk/lib/checkout-mesh-stack';
import { SAGA_ASL_PATH } from '../../cdk/lib/platform';
import { LAMBDA_NODE_MAJOR } from '../../cdk/lib/lambda-runtime';

// Skip esbuild bundling: these tests look at the template, not the code.
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new CheckoutMeshStack(app, 'TestStack', { env: { account: '000000000000', region: 'us-east-1' } });
const template = Template.fromStack(stack);

describe('CheckoutMeshStack', () => {
  it(`runs every function on nodejs${LAMBDA_NODE_MAJOR}.x with its config as environment`, () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions).length).toBeGreaterThanOrEqual(8);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe(`nodejs${LAMBDA_NODE_MAJOR}.x`);
      const env = fn.Properties.Environment.Variables;
      expect(env).toMatchObject({ SERVICE_NAME: expect.any(String), PGHOST: expect.any(String), REDIS_URL: expect.any(String), VAULT_ADDR: expect.any(String) });
    }
  });

  it('gives each service its own HTTP API and the BFF a REST API with a webhooks route', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 6);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'webhooks' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
  });

  it('gives every consumer queue a DLQ and subscribes it raw with a filter policy', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const withDlq = Object.values(queues).filter((q) => q.Properties?.RedrivePolicy);
    expect(withDlq.length).toBeGreaterThanOrEqual(1);
    for (const q of withDlq) expect(q.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThan(1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      FilterPolicy: { type: Match.arrayWith(['PaymentSucceeded']) },
    });
  });

  it('loads the state machine from stepfunctions/ with the step Lambda substituted', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const [sm] = Object.values(machines);
    expect(sm.Properties.DefinitionSubstitutions.SagaStepFunctionArn).toBeDefined();
    const asl = JSON.parse(fs.readFileSync(SAGA_ASL_PATH, 'utf8'));
    expect(JSON.stringify(sm.Properties.DefinitionString)).toContain(asl.States.ReserveStock.Comment);
  });

  it('asks for two concurrent catalog workers (the race must hold across processes)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 2,
      Environment: { Variables: Match.objectLike({ SERVICE_NAME: 'catalog' }) },
    });
  });

  it('uses no custom resources the emulator cannot run', () => {
    const types = new Set(Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type));
    for (const t of types) expect(t).not.toMatch(/^Custom::|AWS::CloudFormation::CustomResource/);
  });
});
