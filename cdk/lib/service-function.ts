import path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type CfnStage, HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Construct } from 'constructs';
import type { DeployConfig, StageThrottle } from './config';
import { vaultAuthEnvironment } from './vault-auth';
import { lambdaNetworkProps } from './network';
import { LAMBDA_BUNDLE_TARGET, LAMBDA_RUNTIME } from './lambda-runtime';

const FUNCTIONS_DIR = path.resolve(__dirname, '..', '..', 'functions');
/** What `@aws-sdk/credential-provider-node` resolves to in a bundle: the Lambda environment's credentials only. */
const LAMBDA_CREDENTIALS = path.join(FUNCTIONS_DIR, 'shared', 'lambda-credentials.ts');

export interface ServiceFunctionProps {
  /** Service folder under functions/ (also SERVICE_NAME and the Vault role). */
  service: string;
  /** Handler file under functions/<service>/handlers/, without extension. */
  handler: string;
  config: DeployConfig;
  /** Lease Postgres credentials from database/creds/<service>. */
  database?: boolean;
  environment?: Record<string, string>;
  timeout?: Duration;
  memorySize?: number;
  reservedConcurrency?: number;
  /** Repo folders copied next to the bundle (e.g. web/ for the BFF). */
  copyDirs?: string[];
}

/**
 * Every Lambda of the system: bundled by local esbuild (no Docker), the AWS SDK bundled in
 * (the emulator's stand-in SDK is partial), an explicit log group (CDK's logRetention custom
 * resource does not run on the emulator), and the shared configuration as environment.
 */
export class ServiceFunction extends NodejsFunction {
  /** The service it belongs to (SERVICE_NAME). */
  readonly service: string;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const { config } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const environment: Record<string, string> = {
      SERVICE_NAME: props.service,
      DEPLOY_TARGET: config.target,
      PGHOST: config.pgHost,
      PGPORT: String(config.pgPort),
      PGDATABASE: config.pgDatabase,
      REDIS_URL: config.redisUrl,
      VAULT_ADDR: config.vaultAddr,
      FAILURE_PLANS_ENABLED: String(config.failurePlansEnabled),
      CHAOS_ENABLED: String(config.chaosEnabled),
      // Locally a small young generation (2 MiB semi-spaces instead of up to 16) keeps each
      // emulator worker ~20 MiB smaller under load; AWS sizes the heap from the function's memory.
      NODE_OPTIONS: config.target === 'local' ? '--enable-source-maps --max-semi-space-size=2' : '--enable-source-maps',
      // Locally glibc keeps at most two malloc arenas: each libuv pool thread (scrypt, DNS, zlib)
      // otherwise keeps its own, and identity's password hashing left ~100 MiB in them per worker.
      ...(config.target === 'local' ? { MALLOC_ARENA_MAX: '2' } : {}),
      ...(props.database ? { DB_ROLE: props.service } : {}),
      ...(config.awsEndpoint ? { AWS_ENDPOINT_URL: config.awsEndpoint } : {}),
      ...vaultAuthEnvironment(config, props.service),
      ...(props.environment ?? {}),
    };
    super(scope, id, {
      entry: path.join(FUNCTIONS_DIR, props.service, 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      timeout: props.timeout ?? Duration.seconds(15),
      memorySize: props.memorySize ?? 256,
      reservedConcurrentExecutions: props.reservedConcurrency,
      logGroup,
      environment,
      ...lambdaNetworkProps(scope, config.network),
      bundling: {
        forceDockerBundling: false,
        // Bundle everything, the AWS SDK included; pg-native is an optional binding pg never loads here.
        externalModules: ['pg-native'],
        minify: true,
        sourceMap: true,
        keepNames: true,
        // index.meta.json beside the bundle: what each input adds to it (npm run bundles reads it).
        metafile: true,
        // The Node the runtime declares; the local emulator's workers run that same major
        // (scripts/lib/lambda-node.ts puts it first on MiniStack's PATH).
        target: LAMBDA_BUNDLE_TARGET,
        format: OutputFormat.CJS,
        // middy and jose ship ESM; prefer their module entry so esbuild can tree-shake.
        mainFields: ['module', 'main'],
        // The SDK's default credential chain is the environment (what Lambda provides) plus a dozen
        // providers that never answer in a Lambda and build their own STS/SSO clients (~300 KB of
        // every bundle): the bundle gets the environment part alone (functions/shared/lambda-credentials.ts).
        esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': LAMBDA_CREDENTIALS },
        logLevel: LogLevel.ERROR,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, outputDir: string) =>
            (props.copyDirs ?? []).map((dir) => `cp -R "${path.join(FUNCTIONS_DIR, '..', dir)}" "${path.join(outputDir, dir)}"`),
        },
      },
    });
    this.service = props.service;
  }
}

/**
 * A service's own HTTP API: every route goes to its API Lambda (routing lives in code), and
 * only IAM-signed callers granted the route get in (cdk/lib/service-grants.ts).
 */
/**
 * A service's HTTP API: IAM-authorized (only granted callers), throttled at its stage (rate and
 * burst on the default route settings). The emulator does not enforce HTTP API stage limits; there
 * the bounded runtime does (reserved concurrency and the account cap, scripts/lib/settings.ts).
 */
export function serviceHttpApi(scope: Construct, id: string, fn: NodejsFunction, throttle: StageThrottle): HttpApi {
  const api = new HttpApi(scope, id, {
    apiName: id,
    defaultIntegration: new HttpLambdaIntegration(`${id}Integration`, fn),
    defaultAuthorizer: new HttpIamAuthorizer(),
    createDefaultStage: true,
  });
  const stage = api.defaultStage!.node.defaultChild as CfnStage;
  stage.defaultRouteSettings = { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit };
  return api;
}
