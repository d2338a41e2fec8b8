import { LAMBDA_BUNDLE_TARGET, LAMBDA_NODE_MAJOR, LAMBDA_RUNTIME } from '../../cdk/lib/lambda-runtime';
import { LAMBDA_NODE_VERSION, lambdaNodeBinDir } from '../../scripts/lib/lambda-node';
import { nodeMajor } from '../../functions/shared/health';

/** The declared runtime, the bundle target and the Node the emulator runs Lambdas on agree. */
describe('Lambda Node runtime', () => {
  it('declares, bundles for and installs locally the same Node major', () => {
    expect(LAMBDA_RUNTIME.name).toBe(`nodejs${LAMBDA_NODE_MAJOR}.x`);
    expect(LAMBDA_BUNDLE_TARGET).toBe(`node${LAMBDA_NODE_MAJOR}`);
    expect(LAMBDA_NODE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Number(LAMBDA_NODE_VERSION.split('.')[0])).toBe(LAMBDA_NODE_MAJOR);
  });

  it('installs the local Node under .local, never as node_modules/.bin/node of the project', () => {
    expect(lambdaNodeBinDir()).toMatch(/\/\.local\/lambda-node\/node_modules\/node-[a-z0-9]+-[a-z0-9]+\/bin$/);
  });

  it('reports the major only', () => {
    expect(nodeMajor('v24.22.3')).toBe('v24');
    expect(nodeMajor()).toBe(process.version.split('.')[0]);
  });
});
