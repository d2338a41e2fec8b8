import { Fn, Stack } from 'aws-cdk-lib';
import { type ISecurityGroup, type IVpc, SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import type { FunctionOptions } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * Where the Lambdas run on AWS. Every ServiceFunction talks to Postgres, Redis (chaos rules) or
 * Vault, which live in a private network, so on AWS they all join the VPC given as context.
 * Everything is imported by id (no Vpc.fromLookup): synth needs no account and no network.
 */
export interface LambdaNetwork {
  vpcId: string;
  privateSubnetIds: string[];
  lambdaSecurityGroupId: string;
}

/** The context keys, in the order the error message lists them. */
export const NETWORK_CONTEXT_KEYS = ['vpcId', 'privateSubnetIds', 'lambdaSecurityGroupId'] as const;

type ContextReader = (key: string) => string | undefined;

/**
 * The aws target's network from context. `undefined` only when -c publicEndpoints=true says on
 * purpose that Postgres, Redis and Vault are reachable from outside a VPC; a forgotten key is
 * an error, not a silently public deployment.
 */
export function networkFromContext(ctx: ContextReader): LambdaNetwork | undefined {
  if (ctx('publicEndpoints') === 'true') return undefined;
  const missing = NETWORK_CONTEXT_KEYS.filter((key) => !ctx(key)?.trim());
  if (missing.length) throw new Error(missingNetworkMessage(missing));
  return {
    vpcId: ctx('vpcId')!.trim(),
    privateSubnetIds: splitIds(ctx('privateSubnetIds')!),
    lambdaSecurityGroupId: ctx('lambdaSecurityGroupId')!.trim(),
  };
}

function missingNetworkMessage(missing: readonly string[]): string {
  return (
    `cdk deploy -c target=aws runs the Lambdas in your VPC and needs -c vpcId=vpc-... -c privateSubnetIds=subnet-a,subnet-b ` +
    `-c lambdaSecurityGroupId=sg-... (missing: ${missing.join(', ')}); ` +
    'or pass -c publicEndpoints=true if Postgres, Redis and Vault are reachable without a VPC'
  );
}

const splitIds = (list: string): string[] =>
  list
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);

/** The Lambda props that put a function into the network; none when there is no network. */
export function lambdaNetworkProps(scope: Construct, network: LambdaNetwork | undefined): Pick<FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
  if (!network) return {};
  const imported = importedNetwork(scope, network);
  return { vpc: imported.vpc, vpcSubnets: { subnets: imported.subnets }, securityGroups: [imported.securityGroup] };
}

/** One set of imported network constructs per stack, shared by every function. */
class ImportedNetwork extends Construct {
  readonly vpc: IVpc;
  readonly subnets: ReturnType<typeof Subnet.fromSubnetId>[];
  readonly securityGroup: ISecurityGroup;

  constructor(scope: Construct, id: string, network: LambdaNetwork) {
    super(scope, id);
    // The AZs are not known without a lookup (Fn::GetAZs stands in); functions pick their subnets by id.
    this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: network.vpcId, availabilityZones: Fn.getAzs() });
    this.subnets = network.privateSubnetIds.map((id) => Subnet.fromSubnetId(this, id, id));
    // Immutable: the security group's rules belong to whoever manages the VPC, not this stack.
    this.securityGroup = SecurityGroup.fromSecurityGroupId(this, 'LambdaSecurityGroup', network.lambdaSecurityGroupId, { mutable: false });
  }
}

function importedNetwork(scope: Construct, network: LambdaNetwork): ImportedNetwork {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild('LambdaNetwork');
  return (existing as ImportedNetwork | undefined) ?? new ImportedNetwork(stack, 'LambdaNetwork', network);
}
