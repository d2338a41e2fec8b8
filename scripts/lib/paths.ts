import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const LOCAL = path.join(ROOT, '.local');
export const LOGS = path.join(LOCAL, 'logs');
export const PIDS = path.join(LOCAL, 'pids');
/** The Node the emulator runs Lambdas on (scripts/lib/lambda-node.ts), installed from the npm registry. */
export const LAMBDA_NODE_DIR = path.join(LOCAL, 'lambda-node');
export const VENV = path.join(ROOT, '.venv');
export const VENV_BIN = path.join(VENV, 'bin');
export const ENDPOINTS_FILE = path.join(LOCAL, 'endpoints.json');
export const SECRETS_FILE = path.join(LOCAL, 'secrets.json');
export const STACK_OUTPUTS_FILE = path.join(LOCAL, 'stack-outputs.json');
export const MIGRATIONS = path.join(ROOT, 'migrations');
