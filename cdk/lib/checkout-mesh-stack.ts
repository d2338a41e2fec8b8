import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { loadConfig } from './config';
import { Platform } from './platform';
import { ServiceFunction, serviceHttpApi } from './service-function';
import { serviceApisEnv, type ServiceContext } from './service-context';
import { apiService } from './services/simple';
import { claimsPurge } from './services/claims';
import { paymentsMesh } from './services/payments';
import { ORDERS_PAYMENT_EVENTS_QUEUE, ordersSaga } from './services/orders';
import { applyNagSuppressions, sagaExecutionsArn } from './nag-suppressions';
import { CALLER_ROUTES, grantRoutes } from './service-grants';
import { lambdaRoleArnOutputs } from './role-outputs';
import { guardAwsTarget } from './aws-target-guard';
import { PUBLIC_STAGE, publicRestApi } from './public-api';

/** The whole system in one stack: the platform, five services, chaos, and the BFF as the public door. */
export class CheckoutMeshStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const config = loadConfig(this);
    const platform = new Platform(this, 'Platform', { enforceSsl: config.target === 'aws' });
    if (config.target === 'aws') guardAwsTarget(this);
    const ctx: ServiceContext = { config, platform };

    const identity = apiService(this, 'identity', ctx);
    // Reserved concurrency per function: config.concurrency (catalog 2: the counterpart of two
    // replicas, so the xmin race spans processes; claims 4: it holds row locks per key, excess
    // calls are throttled and retried by the BFF; locally every request-path function is capped).
    const catalog = apiService(this, 'catalog', ctx);
    const claims = apiService(this, 'claims', ctx);
    claimsPurge(this, ctx);
    const payments = apiService(this, 'payments', ctx, {
      environment: {
        PAYMENTS_TOPIC_ARN: platform.topics.payments.topicArn,
        PAYPAL_API_BASE: config.payments.paypalApiBase,
        PAYPAL_CERT_URL_PREFIXES: config.payments.paypalCertPrefixes.join(','),
        // Unset on AWS: the Stripe SDK talks to api.stripe.com.
        ...(config.payments.stripeApiBase ? { STRIPE_API_BASE: config.payments.stripeApiBase } : {}),
      },
    });
    platform.topics.payments.grantPublish(payments.fn);
    // Its /health reads the topic (found by AUTH=true on the emulator: publish alone does not allow it).
    payments.fn.addToRolePolicy(new PolicyStatement({ actions: ['sns:GetTopicAttributes'], resources: [platform.topics.payments.topicArn] }));
    const mesh = paymentsMesh(this, ctx, payments);

    // Orders: API + the saga step Lambda the state machine calls.
    const ordersScope = new Construct(this, 'OrdersSaga');
    const sagaStep = new ServiceFunction(ordersScope, 'SagaStep', {
      service: 'orders',
      handler: 'saga-step',
      config,
      database: true,
      timeout: Duration.seconds(15),
      reservedConcurrency: config.concurrency.sagaStep,
      environment: { SERVICE_APIS: serviceApisEnv({ catalog: catalog.api, payments: payments.api }) },
    });
    grantRoutes(sagaStep, { catalog: catalog.api, payments: payments.api }, CALLER_ROUTES.sagaStep);
    const saga = platform.checkoutSaga(sagaStep, { paymentTimeoutSeconds: config.target === 'local' ? 20 : 900 });
    const orders = apiService(this, 'orders', ctx, {
      environment: {
        STATE_MACHINE_ARN: saga.stateMachineArn,
      },
    });
    // Orders resumes the saga's WaitForPayment on payment outcomes.
    platform.consumerQueue(ORDERS_PAYMENT_EVENTS_QUEUE, 'payments', ['PaymentSucceeded', 'PaymentFailed']);
    // Least privilege: start executions, describe the machine (health), read execution
    // histories (trace). Resuming WaitForPayment is the payment-events consumer's grant.
    saga.grantStartExecution(orders.fn);
    saga.grant(orders.fn, 'states:DescribeStateMachine');
    orders.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [sagaExecutionsArn(this)],
      }),
    );
    const ordersMesh = ordersSaga(this, ctx, { orders, catalog, payments, saga, sagaStep });
    grantRoutes(orders.fn, { catalog: catalog.api, payments: payments.api }, CALLER_ROUTES.ordersApi);

    const chaosScope = new Construct(this, 'Chaos');
    const chaosFn = new ServiceFunction(chaosScope, 'Api', { service: 'chaos', handler: 'api', config, reservedConcurrency: config.concurrency.chaos });
    const chaosApi = serviceHttpApi(chaosScope, 'chaos-api', chaosFn, config.throttling.service);

    const serviceApis: Record<string, HttpApi> = {
      identity: identity.api,
      catalog: catalog.api,
      claims: claims.api,
      payments: payments.api,
      orders: orders.api,
      chaos: chaosApi,
    };

    // The BFF: the only public door. Every path goes to it, except provider webhooks,
    // which the payments Lambda verifies itself.
    const bffScope = new Construct(this, 'Bff');
    const bff = new ServiceFunction(bffScope, 'Api', {
      service: 'bff',
      handler: 'api',
      config,
      timeout: Duration.seconds(29),
      memorySize: 512,
      reservedConcurrency: config.concurrency.bff,
      copyDirs: ['web'],
      environment: {
        SERVICE_APIS: serviceApisEnv(serviceApis),
        // Public, for the storefront's GET /api/config (what Stripe.js would be initialised with).
        STRIPE_PUBLISHABLE_KEY: config.payments.stripePublishableKey,
        STRIPE_PUBLIC_API_BASE: config.payments.browserStripeApiBase,
      },
    });
    grantRoutes(bff, serviceApis, CALLER_ROUTES.bff);
    // Services believe the identity headers (x-customer-id, ...) only from the BFF's role.
    for (const fn of [identity.fn, catalog.fn, claims.fn, payments.fn, orders.fn, chaosFn]) {
      fn.addEnvironment('TRUSTED_CALLER_ROLES', bff.role!.roleName);
    }
    const publicApi = publicRestApi(bffScope, 'PublicApi', { bff, webhooks: payments.fn, throttle: config.throttling.public });
    // PayPal's approval page sends the buyer back to the store (the order page). The stage by name,
    // not through the Stage resource: that depends on this function's integration (a cycle).
    payments.fn.addEnvironment('STORE_API_ID', publicApi.restApiId);
    payments.fn.addEnvironment('STORE_API_STAGE', PUBLIC_STAGE);

    new CfnOutput(this, 'PublicApiId', { value: publicApi.restApiId });
    new CfnOutput(this, 'PublicApiStage', { value: publicApi.deploymentStage.stageName });
    for (const [name, api] of Object.entries(serviceApis)) new CfnOutput(this, `${cap(name)}ApiId`, { value: api.apiId });
    new CfnOutput(this, 'StateMachineArn', { value: saga.stateMachineArn });
    for (const [domain, topic] of Object.entries(platform.topics)) new CfnOutput(this, `${cap(domain)}TopicArn`, { value: topic.topicArn });
    lambdaRoleArnOutputs(this);

    applyNagSuppressions(this, config.target, {
      saga,
      sagaStep,
      payments: payments.fn,
      dispatcher: mesh.dispatcher,
      orders: orders.fn,
      ordersDispatcher: ordersMesh.dispatcher,
    });
  }
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
