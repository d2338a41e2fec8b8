import { CfnOutput, Fn, type Stack } from 'aws-cdk-lib';
import { ServiceFunction } from './service-function';

/**
 * One output per service, `<Service>LambdaRoleArns`: the execution roles of all its Lambdas,
 * comma-joined. On AWS these are the principals a Vault `aws` auth role binds
 * (bound_iam_principal_arn), so they must cover every function that logs in as that service.
 */
export function lambdaRoleArnOutputs(stack: Stack): void {
  for (const [service, roleArns] of roleArnsByService(stack)) {
    new CfnOutput(stack, `${pascal(service)}LambdaRoleArns`, {
      description: `Execution role ARNs of the ${service} Lambdas (for the Vault aws auth role)`,
      value: Fn.join(',', roleArns),
    });
  }
}

function roleArnsByService(stack: Stack): Map<string, string[]> {
  const byService = new Map<string, string[]>();
  for (const fn of stack.node.findAll().filter((c): c is ServiceFunction => c instanceof ServiceFunction)) {
    byService.set(fn.service, [...(byService.get(fn.service) ?? []), fn.role!.roleArn]);
  }
  return byService;
}

const pascal = (s: string) => s[0].toUpperCase() + s.slice(1);
