import { App, CliCredentialsStackSynthesizer } from 'aws-cdk-lib';
import { BenchFloorStack } from '../lib/bench-floor-stack';

/** The bench-only floor stack (bench/lib/floor.ts deploys it with cdklocal --app). */
const app = new App();
new BenchFloorStack(app, `${process.env.CM_STACK_NAME ?? 'CheckoutMesh'}Floor`, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION },
  description: 'Checkout Mesh benchmarks: echo Lambda behind a REST API, N-step trivial state machine (floors)',
  sagaSteps: Number(process.env.CM_BENCH_SAGA_STEPS ?? 5),
  // Deployed with the CLI's own credentials, like the product stack on the emulator (cdk/bin/app.ts):
  // with AUTH=true MiniStack refuses the bootstrap's assumed publishing role the assets bucket.
  synthesizer: new CliCredentialsStackSynthesizer(),
});
app.synth();
