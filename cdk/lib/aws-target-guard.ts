import { CfnOutput, type Stack } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';

/**
 * The aws template must not carry anything of the local runtime: no Vault token, no password,
 * no emulator or loopback endpoint (a `-c pgHost=127.0.0.1` by mistake included). Checked at
 * synth over every Lambda environment and every output, whoever added the value, so a leak
 * fails `cdk synth`/`cdk deploy` instead of reaching an account.
 */
const FORBIDDEN_KEYS = /^(VAULT_TOKEN|AWS_ENDPOINT_URL.*|.*PASSWORD.*)$/;
// Loopback, the emulator's port and the payment fakes' ports (8200 is Vault's usual port everywhere, so it is allowed).
export const LOCAL_ENDPOINT = /127\.0\.0\.1|localhost|\[::1\]|:4566\b|:1211[12]\b|host\.docker\.internal/i;

export function guardAwsTarget(stack: Stack): void {
  stack.node.addValidation({ validate: () => localLeaks(stack) });
}

function localLeaks(stack: Stack): string[] {
  const problems: string[] = [];
  for (const construct of stack.node.findAll()) {
    if (construct instanceof CfnFunction) {
      const variables = (stack.resolve(construct.environment) as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
      for (const [key, value] of Object.entries(variables)) {
        if (FORBIDDEN_KEYS.test(key)) problems.push(`${construct.node.path}: environment ${key} must not be set on the aws target`);
        else if (LOCAL_ENDPOINT.test(JSON.stringify(value)))
          problems.push(`${construct.node.path}: environment ${key} points at a local endpoint (${JSON.stringify(value)})`);
      }
    }
    if (construct instanceof CfnOutput && LOCAL_ENDPOINT.test(JSON.stringify(stack.resolve(construct.value)))) {
      problems.push(`${construct.node.path}: output points at a local endpoint`);
    }
  }
  return problems;
}
