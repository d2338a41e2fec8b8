import { Runtime } from 'aws-cdk-lib/aws-lambda';

/**
 * The Node major every Lambda of the project runs on, in one place: the declared runtime, the
 * esbuild target, and (scripts/lib/lambda-node.ts) the Node binary the local emulator's workers
 * run. nodejs24.x is the newest Node LTS Lambda offers and the newest runtime aws-cdk-lib
 * knows, so cdk-nag's AwsSolutions-L1 (latest runtime of the family) holds without an
 * acknowledgement. test/unit/lambda-runtime.test.ts keeps the three in step.
 */
export const LAMBDA_NODE_MAJOR = 24;
export const LAMBDA_RUNTIME: Runtime = Runtime.NODEJS_24_X;
/** esbuild's target for every bundle: the same Node the bundle runs on (locally and on AWS). */
export const LAMBDA_BUNDLE_TARGET = `node${LAMBDA_NODE_MAJOR}`;
