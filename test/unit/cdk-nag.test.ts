import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CheckoutMeshStack } from '../../cdk/lib/checkout-mesh-stack';
import { AWS_EXAMPLE_CONTEXT } from '../../scripts/lib/synth';

/**
 * Least privilege, part 1: the AwsSolutions pack of cdk-nag over the whole stack. Every finding
 * is either fixed in cdk/lib or acknowledged, with its reason, in cdk/lib/nag-suppressions.ts.
 * (cdk-nag 3 is a CDK policy-validation plugin; validateScope runs it on the construct tree
 * the same way `Validations.of(app).addPlugins(...)` does at synth.)
 */
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new CheckoutMeshStack(app, 'NagStack', { env: { account: '000000000000', region: 'us-east-1' } });
const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
const describe_ = (severity: string) =>
  report.violations.filter((v) => v.severity === severity).map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged errors', () => {
    expect(describe_('error')).toEqual([]);
  });

  it('reports no unacknowledged warnings', () => {
    expect(describe_('warning')).toEqual([]);
  });

  it('fixed rather than acknowledged on AWS: TLS-only topics and queues (SNS3, SQS4), every saga transition logged without data (SF1)', () => {
    const awsApp = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        target: 'aws',
        pgHost: 'db.example.internal',
        redisUrl: 'rediss://cache.example.internal:6379',
        vaultAddr: 'https://vault.example.internal:8200',
        publicEndpoints: 'true',
      },
    });
    const awsStack = new CheckoutMeshStack(awsApp, 'NagAws', { env: { account: '123456789012', region: 'eu-west-1' } });
    const awsTemplate = Template.fromStack(awsStack);
    expect(Object.keys(awsTemplate.findResources('AWS::SNS::TopicPolicy')).length).toBe(3);
    const tlsOnly = Object.values(awsTemplate.findResources('AWS::SQS::QueuePolicy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('"aws:SecureTransport":"false"'),
    );
    expect(tlsOnly.length).toBe(Object.keys(awsTemplate.findResources('AWS::SQS::Queue')).length);
    const t = Template.fromStack(stack);
    const [sm] = Object.values(t.findResources('AWS::StepFunctions::StateMachine'));
    expect(sm.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
  });

  it('catches a new wildcard grant (the check is live, not a blanket suppression)', () => {
    const probeApp = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const probe = new CheckoutMeshStack(probeApp, 'NagProbe', { env: { account: '000000000000', region: 'us-east-1' } });
    const { PolicyStatement } = jest.requireActual<typeof import('aws-cdk-lib/aws-iam')>('aws-cdk-lib/aws-iam');
    const bff = probe.node.findAll().find((c) => c.node.path === 'NagProbe/Bff/Api') as unknown as { addToRolePolicy(s: unknown): void };
    bff.addToRolePolicy(new PolicyStatement({ actions: ['sqs:*'], resources: ['*'] }));
    const probeReport = new AwsSolutionsChecks().validateScope(probe);
    expect(probeReport.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::sqs:*]', 'AwsSolutions-IAM5[Resource::*]']));
  });
});

describe('cdk-nag AwsSolutions on the aws target (Lambdas in a VPC)', () => {
  const awsApp = new App({ context: { 'aws:cdk:bundling-stacks': [], ...AWS_EXAMPLE_CONTEXT } });
  const awsStack = new CheckoutMeshStack(awsApp, 'NagAwsStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const awsReport = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(awsStack);

  it('reports no unacknowledged errors or warnings', () => {
    expect(awsReport.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
