import { App, CliCredentialsStackSynthesizer } from 'aws-cdk-lib';
import { CheckoutMeshStack } from '../lib/checkout-mesh-stack';

const app = new App();
const target = app.node.tryGetContext('target') ?? process.env.CM_DEPLOY_TARGET ?? 'local';
new CheckoutMeshStack(app, process.env.CM_STACK_NAME ?? 'CheckoutMesh', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION },
  description: 'Checkout Mesh: reference e-commerce backend (BFF, identity, catalog, claims, payments, orders saga, chaos)',
  // On the emulator (AUTH=true) cdklocal deploys with the CLI's own (root) credentials: the
  // bootstrap's assumed publishing/deploy roles are an account-level arrangement MiniStack's
  // IAM evaluation refuses for the assets bucket. On AWS the default synthesizer's roles stay.
  ...(target === 'local' ? { synthesizer: new CliCredentialsStackSynthesizer() } : {}),
});
app.synth();
