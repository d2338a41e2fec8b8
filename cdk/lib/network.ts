import { Annotations, Fn, Stack } from 'aws-cdk-lib';
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

/** Context as the CLI gives it (strings), or as cdk.json may hold it (booleans, lists). */
type ContextReader = (key: string) => unknown;

/** What each key's ids start with (followed by hex digits). */
const ID_PREFIXES: Record<(typeof NETWORK_CONTEXT_KEYS)[number], string> = {
  vpcId: 'vpc-',
  privateSubnetIds: 'subnet-',
  lambdaSecurityGroupId: 'sg-',
};

/**
 * The aws target's network from context. `undefined` only when -c publicEndpoints=true says on
 * purpose that Postgres, Redis and Vault are reachable from outside a VPC; a forgotten key is
 * an error, not a silently public deployment.
 */
export function networkFromContext(ctx: ContextReader): LambdaNetwork | undefined {
  const given = NETWORK_CONTEXT_KEYS.filter((key) => ids(ctx(key)).length > 0);
  if (String(ctx('publicEndpoints')) === 'true') {
    if (given.length) throw new Error(`-c publicEndpoints=true runs the Lambdas outside a VPC, but ${given.join(', ')} was given too: pass one or the other`);
    return undefined;
  }
  const missing = NETWORK_CONTEXT_KEYS.filter((key) => !given.includes(key));
  if (missing.length) throw new Error(missingNetworkMessage(missing));
  const network = {
    vpcId: ids(ctx('vpcId'))[0],
    privateSubnetIds: ids(ctx('privateSubnetIds')),
    lambdaSecurityGroupId: ids(ctx('lambdaSecurityGroupId'))[0],
  };
  assertIdFormats(network);
  return network;
}

function missingNetworkMessage(missing: readonly string[]): string {
  return (
    `cdk deploy -c target=aws runs the Lambdas in your VPC and needs -c vpcId=vpc-... -c privateSubnetIds=subnet-a,subnet-b ` +
    `-c lambdaSecurityGroupId=sg-... (missing: ${missing.join(', ')}); ` +
    'or pass -c publicEndpoints=true if Postgres, Redis and Vault are reachable without a VPC'
  );
}

/** A typo'd id would only fail at deploy time, halfway through the stack: fail the synth instead. */
function assertIdFormats(network: LambdaNetwork): void {
  const values: Record<keyof typeof ID_PREFIXES, string[]> = {
    vpcId: [network.vpcId],
    privateSubnetIds: network.privateSubnetIds,
    lambdaSecurityGroupId: [network.lambdaSecurityGroupId],
  };
  for (const key of NETWORK_CONTEXT_KEYS) {
    const format = new RegExp(`^${ID_PREFIXES[key]}[0-9a-f]+$`);
    const bad = values[key].filter((id) => !format.test(id));
    if (bad.length) throw new Error(`-c ${key}: ${bad.join(', ')} is not a ${ID_PREFIXES[key]}... id`);
  }
}

/** "a, b,,a" or ["a", "b"] -> [a, b]: tolerant of spaces, empty items and repeats. */
function ids(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : value === undefined || value === null ? [] : String(value).split(',');
  return [...new Set(items.map((id) => id.trim()).filter(Boolean))];
}

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
    Annotations.of(this.vpc).acknowledgeWarning(
      '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      'No construct here selects subnets from the imported VPC by AZ: every function is given its subnets by id.',
    );
    this.subnets = network.privateSubnetIds.map((id) => {
      const subnet = Subnet.fromSubnetId(this, id, id);
      Annotations.of(subnet).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId', 'Lambdas only need the subnet id; nothing in this stack reads or adds routes.');
      return subnet;
    });
    // Immutable: the security group's rules belong to whoever manages the VPC, not this stack.
    this.securityGroup = SecurityGroup.fromSecurityGroupId(this, 'LambdaSecurityGroup', network.lambdaSecurityGroupId, { mutable: false });
  }
}

function importedNetwork(scope: Construct, network: LambdaNetwork): ImportedNetwork {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild('LambdaNetwork');
  return (existing as ImportedNetwork | undefined) ?? new ImportedNetwork(stack, 'LambdaNetwork', network);
}
