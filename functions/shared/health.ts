/**
 * Dependency health: each check runs with a timeout and reports up/down with its latency.
 * A service's /health answers 200 only when every dependency is up.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a check with nothing to report is a plain `async () => { ... }`
export type Check = () => Promise<Record<string, unknown> | void>;

export interface DependencyReport {
  status: 'up' | 'down';
  latencyMs: number;
  detail?: Record<string, unknown>;
  error?: string;
}

export interface HealthReport {
  status: 'up' | 'down';
  service: string;
  /** The Node major this Lambda runs on (e.g. "v24"): test/e2e/lambda-runtime.test.ts compares it with the declared runtime. */
  node: string;
  dependencies: Record<string, DependencyReport>;
}

export async function runChecks(service: string, checks: Record<string, Check>, timeoutMs = 2000): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyReport]> => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const detail = await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { status: 'up', latencyMs: Date.now() - started, ...(detail ? { detail } : {}) }];
      } catch (err) {
        return [name, { status: 'down', latencyMs: Date.now() - started, error: (err as Error).message }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const dependencies = Object.fromEntries(entries);
  const status = entries.every(([, r]) => r.status === 'up') ? 'up' : 'down';
  return { status, service, node: nodeMajor(), dependencies };
}

/** `process.version` cut to its major ("v24.22.3" -> "v24"): enough to tell runtimes apart, no patch level to fingerprint. */
export const nodeMajor = (version: string = process.version): string => version.split('.')[0];
