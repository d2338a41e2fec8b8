import fs from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CheckoutMeshStack } from '../../cdk/lib/checkout-mesh-stack';
import { SAGA_ASL_PATH } from '../../cdk/lib/platform';
import { LAMBDA_NODE_MAJOR } from '../../cdk/lib/lambda-runtime';
import { lambdaConcurrency } from '../../cdk/lib/config';
import { lambdaLimits } from '../../scripts/lib/settings';

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

  it('throttles the public stage and every service stage, and shapes platform refusals as problem+json with Retry-After', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 100, ThrottlingBurstLimit: 50 })]),
    });
    const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stages).toHaveLength(6);
    for (const s of stages) expect(s.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 100 });

    const responses = template.findResources('AWS::ApiGateway::GatewayResponse');
    const byType = Object.fromEntries(Object.values(responses).map((r) => [r.Properties.ResponseType, r.Properties]));
    // A throttled stage, a Lambda that cannot run (throttled) and a timeout: 503, never 429/504 without Retry-After.
    for (const type of ['THROTTLED', 'INTEGRATION_FAILURE', 'INTEGRATION_TIMEOUT']) {
      expect(byType[type]).toMatchObject({
        StatusCode: '503',
        ResponseParameters: { 'gatewayresponse.header.Retry-After': "'1'", 'gatewayresponse.header.Content-Type': "'application/problem+json'" },
      });
      const body = byType[type].ResponseTemplates['application/json'].replace(/\$context\.\w+(\.\w+)*/g, 'x');
      expect(JSON.parse(body)).toMatchObject({
        status: 503,
        type: expect.stringMatching(/^https:\/\/checkout-mesh\.dev\/problems\/(service-overloaded|upstream-timeout)$/),
      });
    }
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      expect(byType[type].ResponseParameters['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
      expect(byType[type].StatusCode).toBeUndefined();
    }
  });

  it('caps every function locally so the sum of their workers stays near the account cap', () => {
    const bff = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment.Variables.SERVICE_NAME === 'bff');
    const expected = lambdaConcurrency('local', lambdaLimits().accountConcurrency);
    expect(bff?.Properties.ReservedConcurrentExecutions).toBe(expected.bff);
    const local = lambdaConcurrency('local', 32);
    expect(local).toMatchObject({ bff: 7, sagaStep: 6, catalog: 2, claims: 4 });
    // Every role capped, and their sum (one function per role, two dispatchers and two consumers) near the cap.
    const sum = Object.values(local).reduce((n: number, v) => n + (v ?? Number.NaN), 0) + (local.dispatcher ?? 0) + (local.consumer ?? 0);
    expect(sum).toBeLessThanOrEqual(32);
    // On AWS the BFF scales (behind the stage throttle); only the catalog and claims are capped.
    expect(lambdaConcurrency('aws', 0)).toMatchObject({ bff: undefined, sagaStep: undefined, catalog: 2, claims: 4 });
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
