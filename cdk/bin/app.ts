import { App } from 'aws-cdk-lib';
import { CheckoutMeshStack } from '../lib/checkout-mesh-stack';

const app = new App();
new CheckoutMeshStack(app, process.env.CM_STACK_NAME ?? 'CheckoutMesh', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION },
  description: 'Checkout Mesh: reference e-commerce backend (BFF, identity, catalog, claims, payments, orders saga, chaos)',
});
app.synth();
