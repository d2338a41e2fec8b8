import fs from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CheckoutMeshStack } from '../../cdk/lib/checkout-mesh-stack';
import { ServiceFunction } from '../../cdk/lib/service-function';
import { AWS_EXAMPLE_CONTEXT } from '../../scripts/lib/synth';

/**
 * The `target=aws` template: nothing of the local runtime in it (Vault tokens, secrets.json
 * values, emulator or loopback endpoints), every Lambda in the VPC given as context, and the
 * per-service role ARN outputs the Vault aws auth roles are bound to.
 */
// biome-ignore lint/suspicious/noExplicitAny: the synthesized CloudFormation template, walked by path
type Json = any;
type Context = Record<string, string>;

const NETWORK_KEYS = ['vpcId', 'privateSubnetIds', 'lambdaSecurityGroupId'];
const SUBNETS = AWS_EXAMPLE_CONTEXT.privateSubnetIds.split(',');
const SECURITY_GROUP = AWS_EXAMPLE_CONTEXT.lambdaSecurityGroupId;
const ROLE_OUTPUT_SERVICES = ['Identity', 'Catalog', 'Claims', 'Payments', 'Orders', 'Bff', 'Chaos'];
const EMULATOR_ENDPOINT = /127\.0\.0\.1|localhost|:4566\b|AWS_ENDPOINT_URL|:1211[12]\b/;

const SECRETS_FILE = path.resolve(__dirname, '..', '..', '.local', 'secrets.json');
/** A secrets.json the local target would read: its values must never reach the aws template. */
const FAKE_SECRETS = {
  serviceTokens: { identity: 'hvs.fake-identity-token', catalog: 'hvs.fake-catalog-token', orders: 'hvs.fake-orders-token', bff: 'hvs.fake-bff-token' },
  stripePublishableKey: 'pk_test_fake_from_secrets_json',
};

function synth(context: Context): { stack: CheckoutMeshStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new CheckoutMeshStack(app, 'AwsTargetStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  return { stack, template: Template.fromStack(stack) };
}

const without = (context: Context, keys: string[]): Context => Object.fromEntries(Object.entries(context).filter(([k]) => !keys.includes(k)));

/** Synthesizes while config.ts sees FAKE_SECRETS as .local/secrets.json (the real file is left alone). */
function synthWithFakeSecrets(context: Context): Template {
  const realExists = fs.existsSync;
  const realRead = fs.readFileSync;
  const exists = jest.spyOn(fs, 'existsSync').mockImplementation((p) => p === SECRETS_FILE || realExists(p));
  const read = jest
    .spyOn(fs, 'readFileSync')
    .mockImplementation(((p: fs.PathOrFileDescriptor, ...rest: unknown[]) =>
      p === SECRETS_FILE ? JSON.stringify(FAKE_SECRETS) : (realRead as (...a: unknown[]) => unknown)(p, ...rest)) as typeof fs.readFileSync);
  try {
    return synth(context).template;
  } finally {
    exists.mockRestore();
    read.mockRestore();
  }
}

/** Every string value of secrets.json (the fake one, and the real one when `npm run up` wrote it). */
function secretValues(): string[] {
  const real = fs.existsSync(SECRETS_FILE) ? (JSON.parse(fs.readFileSync(SECRETS_FILE, 'utf8')) as Json) : {};
  const strings = (v: Json): string[] => (typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);
  return [...strings(FAKE_SECRETS), ...strings(real)].filter((s) => s.length >= 8);
}

const lambdas = (template: Template): Record<string, Json> => template.findResources('AWS::Lambda::Function');

describe('target=aws template', () => {
  const { stack, template } = synth({ ...AWS_EXAMPLE_CONTEXT });
  const json = template.toJSON();
  const text = JSON.stringify(json);

  it('sets no VAULT_TOKEN, AWS_ENDPOINT_URL or password variable on any Lambda', () => {
    for (const [id, fn] of Object.entries(lambdas(template))) {
      const keys = Object.keys(fn.Properties.Environment?.Variables ?? {});
      expect({ id, keys: keys.filter((k) => /VAULT_TOKEN|AWS_ENDPOINT_URL|PASSWORD/i.test(k)) }).toEqual({ id, keys: [] });
    }
    expect(text).not.toContain('VAULT_TOKEN');
  });

  it('contains no emulator, loopback or payment-fake endpoint anywhere (resources and outputs)', () => {
    expect(text).not.toMatch(EMULATOR_ENDPOINT);
  });

  it('contains no value of secrets.json, even when the local target reads one', () => {
    const local = JSON.stringify(synthWithFakeSecrets({ target: 'local' }).toJSON());
    expect(local).toContain(FAKE_SECRETS.serviceTokens.identity); // the fixture reaches the local target
    const aws = JSON.stringify(synthWithFakeSecrets({ ...AWS_EXAMPLE_CONTEXT }).toJSON());
    for (const secret of secretValues()) expect(aws).not.toContain(secret);
  });

  it('puts every ServiceFunction into the given private subnets with the given security group', () => {
    const serviceFunctions = stack.node.findAll().filter((c): c is ServiceFunction => c instanceof ServiceFunction);
    expect(serviceFunctions.length).toBeGreaterThanOrEqual(13);
    const resources = json.Resources as Record<string, Json>;
    for (const fn of serviceFunctions) {
      const id = stack.getLogicalId(fn.node.defaultChild as never);
      expect({ id, vpc: resources[id].Properties.VpcConfig }).toEqual({ id, vpc: { SubnetIds: SUBNETS, SecurityGroupIds: [SECURITY_GROUP] } });
    }
    // No Lambda of any other kind slipped in outside the VPC.
    expect(Object.keys(lambdas(template)).length).toBe(serviceFunctions.length);
  });

  it('gives the Lambda roles the ENI permissions of AWSLambdaVPCAccessExecutionRole', () => {
    const roles = Object.values(json.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r).includes('lambda.amazonaws.com'));
    expect(roles.length).toBeGreaterThanOrEqual(13);
    for (const role of roles) expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
  });

  it('outputs, per service, the execution role ARNs of all its Lambdas', () => {
    const resources = json.Resources as Record<string, Json>;
    const rolesOf = (service: string) =>
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment.Variables.SERVICE_NAME === service)
        .map((r) => r.Properties.Role['Fn::GetAtt'][0])
        .sort();
    for (const service of ROLE_OUTPUT_SERVICES) {
      const output = json.Outputs[`${service}LambdaRoleArns`];
      expect(output).toBeDefined();
      const joined = output.Value['Fn::Join'] ?? [',', [output.Value]];
      expect(joined[0]).toBe(',');
      const roles = joined[1].map((v: Json) => v['Fn::GetAtt'][0]).sort();
      expect(roles).toEqual(rolesOf(service.toLowerCase()));
    }
    expect(rolesOf('orders').length).toBeGreaterThanOrEqual(4); // API, saga step, consumer, dispatcher
  });
});

describe('target=aws network context', () => {
  it('fails with a message naming each missing VPC context key', () => {
    for (const key of NETWORK_KEYS) {
      expect(() => synth(without(AWS_EXAMPLE_CONTEXT, [key]))).toThrow(new RegExp(`missing: ${key}\\b`));
    }
    expect(() => synth(without(AWS_EXAMPLE_CONTEXT, NETWORK_KEYS))).toThrow(/missing: vpcId, privateSubnetIds, lambdaSecurityGroupId.*publicEndpoints=true/);
  });

  it('refuses malformed ids and a VPC together with publicEndpoints=true', () => {
    expect(() => synth({ ...AWS_EXAMPLE_CONTEXT, lambdaSecurityGroupId: 'sg-1x' })).toThrow(/-c lambdaSecurityGroupId: sg-1x is not a sg-\.\.\. id/);
    expect(() => synth({ ...AWS_EXAMPLE_CONTEXT, privateSubnetIds: 'subnet-0abc,vpc-0abc' })).toThrow(/-c privateSubnetIds: vpc-0abc is not a subnet-/);
    expect(() => synth({ ...AWS_EXAMPLE_CONTEXT, publicEndpoints: 'true' })).toThrow(
      /publicEndpoints=true .* but vpcId, privateSubnetIds, lambdaSecurityGroupId was given too/,
    );
  });

  it('accepts the subnet list with spaces and repeats', () => {
    const { template } = synth({ ...AWS_EXAMPLE_CONTEXT, privateSubnetIds: ` ${SUBNETS[0]} , ${SUBNETS[1]},${SUBNETS[0]},` });
    for (const fn of Object.values(lambdas(template))) expect(fn.Properties.VpcConfig.SubnetIds).toEqual(SUBNETS);
  });

  it('synthesizes without a VPC only when publicEndpoints=true is given on purpose', () => {
    const { template } = synth({ ...without(AWS_EXAMPLE_CONTEXT, NETWORK_KEYS), publicEndpoints: 'true' });
    const fns = Object.values(lambdas(template));
    expect(fns.length).toBeGreaterThanOrEqual(13);
    for (const fn of fns) expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('AWSLambdaVPCAccessExecutionRole');
  });

  it('refuses a local endpoint given as context (the guard, not only the defaults)', () => {
    expect(() => synth({ ...AWS_EXAMPLE_CONTEXT, pgHost: '127.0.0.1' })).toThrow(/PGHOST points at a local endpoint/);
    expect(() => synth({ ...AWS_EXAMPLE_CONTEXT, redisUrl: 'redis://localhost:6379/0' })).toThrow(/REDIS_URL points at a local endpoint/);
  });
});
