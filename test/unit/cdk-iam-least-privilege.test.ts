import { App, Arn, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CheckoutMeshStack } from '../../cdk/lib/checkout-mesh-stack';
import { CALLER_ROUTES } from '../../cdk/lib/service-grants';

/**
 * Least privilege, part 2: every IAM statement on SNS, SQS, Step Functions and Lambda invoke,
 * read from the synthesized template, names only resources owned by the role's own service:
 * no wildcard actions, no `*` or `checkout-mesh-*` resources, no other service's topic, queue,
 * state machine or function. Ownership: topic `checkout-mesh-<service>`, queue
 * `checkout-mesh-<service>-<consumer>` (+ `-dlq`), the checkout saga -> orders, a function ->
 * its SERVICE_NAME; the saga's own role belongs to orders.
 */
// biome-ignore lint/suspicious/noExplicitAny: the synthesized CloudFormation template, walked by path
type Json = any;
const GUARDED = /^(sns|sqs|states|lambda):/;

function owners(resources: Record<string, Json>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::SNS::Topic')
      out.set(
        id,
        String(p.TopicName)
          .replace(/^checkout-mesh-/, '')
          .split('-')[0],
      );
    if (r.Type === 'AWS::SQS::Queue')
      out.set(
        id,
        String(p.QueueName)
          .replace(/^checkout-mesh-/, '')
          .split('-')[0],
      );
    if (r.Type === 'AWS::StepFunctions::StateMachine') out.set(id, 'orders');
    if (r.Type === 'AWS::Lambda::Function') out.set(id, p.Environment?.Variables?.SERVICE_NAME);
  }
  return out;
}

/** Role logical id -> service: Lambda roles by their function's SERVICE_NAME, the saga's role -> orders. */
function roleServices(resources: Record<string, Json>): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of Object.values(resources)) {
    if (r.Type === 'AWS::Lambda::Function') out.set(r.Properties.Role['Fn::GetAtt'][0], r.Properties.Environment.Variables.SERVICE_NAME);
    if (r.Type === 'AWS::StepFunctions::StateMachine') out.set(r.Properties.RoleArn['Fn::GetAtt'][0], 'orders');
  }
  return out;
}

/** Logical ids a resource expression refers to, and its literal text (tokens as ${id}). */
function refs(expr: Json, ids: string[] = []): { ids: string[]; text: string } {
  if (typeof expr === 'string') return { ids, text: expr };
  if (Array.isArray(expr)) return { ids, text: expr.map((e) => refs(e, ids).text).join('') };
  if (expr?.Ref) {
    if (!String(expr.Ref).startsWith('AWS::')) ids.push(expr.Ref);
    return { ids, text: `\${${expr.Ref}}` };
  }
  if (expr?.['Fn::GetAtt']) {
    ids.push(expr['Fn::GetAtt'][0]);
    return { ids, text: `\${${expr['Fn::GetAtt'].join('.')}}` };
  }
  if (expr?.['Fn::Join']) return { ids, text: expr['Fn::Join'][1].map((e: Json) => refs(e, ids).text).join(expr['Fn::Join'][0]) };
  if (expr?.['Fn::Select'] || expr?.['Fn::Split']) return { ids, text: JSON.stringify(expr) };
  return { ids, text: JSON.stringify(expr) };
}

function leastPrivilegeViolations(template: Json): string[] {
  const resources = template.Resources as Record<string, Json>;
  const own = owners(resources);
  const roles = roleServices(resources);
  const problems: string[] = [];
  for (const [policyId, policy] of Object.entries(resources)) {
    if (policy.Type !== 'AWS::IAM::Policy') continue;
    for (const role of policy.Properties.Roles ?? []) {
      const service = roles.get(role.Ref);
      if (!service) continue;
      for (const st of policy.Properties.PolicyDocument.Statement) {
        const actions: string[] = [st.Action].flat();
        const guarded = actions.filter((a) => GUARDED.test(a) || a === '*');
        if (!guarded.length || st.Effect !== 'Allow') continue;
        for (const a of guarded) if (a.includes('*')) problems.push(`${policyId} (${service}): wildcard action ${a}`);
        for (const res of [st.Resource].flat()) {
          const { ids, text } = refs(res);
          if (text === '*') {
            problems.push(`${policyId} (${service}): ${guarded.join(',')} on *`);
            continue;
          }
          if (/checkout-mesh-\*|:\*$/.test(text) && !ids.length && !text.includes(':execution:checkout-mesh-checkout-saga:*')) {
            problems.push(`${policyId} (${service}): ${guarded.join(',')} on wildcard ${text}`);
          }
          if (text.includes(':execution:checkout-mesh-checkout-saga:') && service !== 'orders') {
            problems.push(`${policyId} (${service}): ${guarded.join(',')} on the orders saga's executions`);
          }
          for (const id of ids) {
            const owner = own.get(id);
            if (owner && owner !== service) problems.push(`${policyId} (${service}): ${guarded.join(',')} on ${id} owned by ${owner}`);
          }
        }
      }
    }
  }
  return problems;
}

/**
 * DynamoDB: none. Lambda idempotency records live in each service's own Postgres schema
 * (functions/shared/idempotency-store.ts), so the template has no table and no role may hold a
 * dynamodb action (or `*`, which would include them).
 */
function dynamoViolations(template: Json): string[] {
  const resources = template.Resources as Record<string, Json>;
  const problems: string[] = [];
  for (const [id, r] of Object.entries(resources)) if (r.Type.startsWith('AWS::DynamoDB::')) problems.push(`unexpected ${r.Type} ${id}`);
  for (const [policyId, policy] of Object.entries(resources)) {
    if (policy.Type !== 'AWS::IAM::Policy') continue;
    for (const st of policy.Properties.PolicyDocument.Statement) {
      const actions: string[] = [st.Action].flat().filter((a: string) => a.startsWith('dynamodb:') || a === '*');
      if (actions.length && st.Effect === 'Allow')
        problems.push(`${policyId}: ${actions.join(',')} for ${(policy.Properties.Roles ?? []).map((r: Json) => r.Ref).join(',')}`);
    }
  }
  return problems;
}

const synth = (configure?: (stack: CheckoutMeshStack) => void) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new CheckoutMeshStack(app, 'IamStack', { env: { account: '000000000000', region: 'us-east-1' } });
  configure?.(stack);
  return Template.fromStack(stack).toJSON();
};
const fn = (stack: Stack, path: string) => stack.node.findAll().find((c) => c.node.path === `IamStack/${path}`) as unknown as IFunction;

describe('each Lambda role touches only its own queues, topics, state machine and functions', () => {
  const template = synth();

  it("has no statement on another service's resource, no wildcard action and no wildcard resource", () => {
    expect(leastPrivilegeViolations(template)).toEqual([]);
  });

  it('the checker is live: it flags the old account-wide queue grant and a cross-service topic grant', () => {
    const bad = synth((stack) => {
      fn(stack, 'Payments/Api').addToRolePolicy(
        new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [Arn.format({ service: 'sqs', resource: 'checkout-mesh-*' }, stack)] }),
      );
      const catalogFn = fn(stack, 'Catalog/Api');
      (stack.node.findAll().find((c) => c.node.path === 'IamStack/Platform/OrdersTopic') as unknown as { grantPublish(g: IFunction): void }).grantPublish(catalogFn);
      fn(stack, 'Bff/Api').addToRolePolicy(new PolicyStatement({ actions: ['states:*'], resources: ['*'] }));
    });
    const found = leastPrivilegeViolations(bad).join('\n');
    expect(found).toMatch(/\(payments\): sqs:SendMessage on wildcard .*checkout-mesh-\*/);
    expect(found).toMatch(/\(catalog\): sns:Publish on PlatformOrdersTopic\w+ owned by orders/);
    expect(found).toMatch(/\(bff\): wildcard action states:\*/);
  });

  it('grants what each owner needs (a guard against a checker that passes because nothing is granted)', () => {
    const statements = Object.values(template.Resources as Record<string, Json>)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: Json) => [s.Action].flat()));
    expect(statements).toEqual(
      expect.arrayContaining([
        'sns:Publish',
        'states:StartExecution',
        'states:SendTaskSuccess',
        'sqs:ReceiveMessage',
        'lambda:InvokeFunction',
        'states:GetExecutionHistory',
      ]),
    );
  });
});

/**
 * Least privilege, part 3: execute-api. Every Lambda role's Invoke statements, read from the
 * template, name exactly the routes cdk/lib/service-grants.ts lists for that caller (one ARN per
 * method and route on the `$default` stage of one API), never a whole API (`$default/*`), and the
 * BFF never an `/internal/*` route.
 */
type Grant = { caller: string; api: string; route: string };
function executeApiGrants(template: Json): Grant[] {
  const resources = template.Resources as Record<string, Json>;
  const apiNames = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) if (r.Type === 'AWS::ApiGatewayV2::Api') apiNames.set(id, String(r.Properties.Name).replace(/-api$/, ''));
  const callerOf = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const roleId = r.Properties.Role['Fn::GetAtt'][0];
    const caller = id.startsWith('Bff')
      ? 'bff'
      : id.startsWith('OrdersSagaSagaStep')
        ? 'sagaStep'
        : id.startsWith('OrdersApi')
          ? 'ordersApi'
          : `${r.Properties.Environment.Variables.SERVICE_NAME}:${id}`;
    callerOf.set(roleId, caller);
  }
  const grants: Grant[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const role of r.Properties.Roles ?? []) {
      for (const st of r.Properties.PolicyDocument.Statement) {
        if (![st.Action].flat().includes('execute-api:Invoke')) continue;
        for (const res of [st.Resource].flat()) {
          const { ids, text } = refs(res);
          const apiId = ids.find((i) => apiNames.has(i));
          const route = /\/\$default\/(.*)$/.exec(text)?.[1] ?? text;
          grants.push({ caller: callerOf.get(role.Ref) ?? role.Ref, api: apiId ? apiNames.get(apiId)! : '?', route });
        }
      }
    }
  }
  return grants;
}

describe('the ops routes: their own function per queue owner holds the redrive grants', () => {
  const template = synth();
  const resources = template.Resources as Record<string, Json>;
  /** Function logical ids (hash suffix off) whose role has a statement with `action`. */
  const holders = (action: string) => {
    const fnOfRole = new Map<string, string>();
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::Lambda::Function') fnOfRole.set(r.Properties.Role['Fn::GetAtt'][0], id.replace(/[A-F0-9]{8}$/, ''));
    }
    return Object.values(resources)
      .filter((p) => p.Type === 'AWS::IAM::Policy')
      .filter((p) => p.Properties.PolicyDocument.Statement.some((st: Json) => [st.Action].flat().includes(action)))
      .flatMap((p) => p.Properties.Roles.map((r: Json) => fnOfRole.get(r.Ref)))
      .sort();
  };

  it('grants the redrive (sqs:SendMessage) to the ops functions alone, and the API Lambdas no SQS action', () => {
    expect(holders('sqs:SendMessage')).toEqual(['OrdersMeshOps', 'PaymentsMeshOps']);
    // The consumers also read their queue's attributes (the event source mapping); the API Lambdas no SQS action at all.
    expect(holders('sqs:GetQueueAttributes')).toEqual(['OrdersMeshOps', 'OrdersMeshPaymentEventsConsumer', 'PaymentsMeshAuditConsumer', 'PaymentsMeshOps']);
    const sqsActions = (fn: string) =>
      Object.values(resources)
        .filter((p) => p.Type === 'AWS::IAM::Policy' && p.Properties.Roles.some((r: Json) => String(r.Ref).startsWith(`${fn}ServiceRole`)))
        .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((st: Json) => [st.Action].flat()))
        .filter((a: string) => a.startsWith('sqs:'));
    expect([sqsActions('PaymentsApi'), sqsActions('OrdersApi')]).toEqual([[], []]);
  });

  it("routes the three ops paths of the payments and orders APIs to the ops function's integration, every other path to the API Lambda", () => {
    const routes = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => ({ key: r.Properties.RouteKey, api: r.Properties.ApiId.Ref, auth: r.Properties.AuthorizationType, target: JSON.stringify(r.Properties.Target) }));
    const ops = routes.filter((r) => r.key !== '$default');
    expect(ops.map((r) => r.key).sort()).toEqual([
      'GET /ops/dlq',
      'GET /ops/dlq',
      'GET /ops/outbox',
      'GET /ops/outbox',
      'POST /ops/dlq/{queue}/redrive',
      'POST /ops/dlq/{queue}/redrive',
    ]);
    for (const r of ops) {
      expect(r.auth).toBe('AWS_IAM');
      const def = routes.find((d) => d.key === '$default' && d.api === r.api)!;
      expect(r.target).not.toBe(def.target);
      // integrations/<id>: the integration's URI is the ops function's ARN.
      const integration = resources[/"Ref":"([^"]+)"/.exec(r.target)![1]];
      expect(JSON.stringify(integration.Properties.IntegrationUri)).toMatch(/"Fn::GetAtt":\["(Payments|Orders)MeshOps[A-F0-9]{8}","Arn"\]/);
    }
  });
});

describe('execute-api grants: each caller gets exactly the routes it calls', () => {
  const template = synth();
  const grants = executeApiGrants(template);

  it.each(Object.keys(CALLER_ROUTES))('%s: the table, nothing more', (caller) => {
    const expected = Object.entries(CALLER_ROUTES[caller as keyof typeof CALLER_ROUTES])
      .flatMap(([api, routes]) => (routes as ReadonlyArray<readonly [string, string]>).map(([m, p]) => `${api} ${m}${p}`))
      .sort();
    const actual = grants
      .filter((g) => g.caller === caller)
      .map((g) => `${g.api} ${g.route}`)
      .sort();
    expect(actual).toEqual(expected);
  });

  it('no other function may invoke a service API, no grant covers a whole API, the BFF has no /internal/* route', () => {
    expect(grants.filter((g) => !(g.caller in CALLER_ROUTES))).toEqual([]);
    expect(grants.filter((g) => g.route === '*' || g.route.startsWith('*/') || !/^(GET|POST|PUT|PATCH|DELETE)\//.test(g.route))).toEqual([]);
    expect(grants.filter((g) => g.caller === 'bff' && g.route.includes('/internal/'))).toEqual([]);
    expect(grants.filter((g) => g.caller === 'bff').length).toBeGreaterThan(20);
  });

  it('the check is live: a grantInvoke-style whole-API grant to the BFF is caught', () => {
    const bad = executeApiGrants(
      synth((stack) => {
        const api = stack.node.findAll().find((c) => c.node.path === 'IamStack/Catalog/catalog-api') as unknown as {
          arnForExecuteApi(m?: string, p?: string, s?: string): string;
        };
        fn(stack, 'Bff/Api').addToRolePolicy(new PolicyStatement({ actions: ['execute-api:Invoke'], resources: [api.arnForExecuteApi('*', '/*', '$default')] }));
      }),
    );
    expect(bad.filter((g) => g.caller === 'bff' && g.api === 'catalog' && g.route.startsWith('*/'))).toHaveLength(1);
  });
});

describe('DynamoDB: no table, no grant (idempotency records are in Postgres)', () => {
  const template = synth();

  it('the template has no DynamoDB resource, no dynamodb action in any policy and no IDEMPOTENCY_TABLE_NAME', () => {
    expect(dynamoViolations(template)).toEqual([]);
    const resources = template.Resources as Record<string, Json>;
    const withTable = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.IDEMPOTENCY_TABLE_NAME)
      .map(([id]) => id);
    expect(withTable).toEqual([]);
  });

  it('the checker is live: it flags a DynamoDB grant', () => {
    const bad = synth((stack) => {
      fn(stack, 'OrdersSaga/SagaStep').addToRolePolicy(
        new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [Arn.format({ service: 'dynamodb', resource: 'table', resourceName: '*' }, stack)] }),
      );
    });
    expect(dynamoViolations(bad).join('\n')).toMatch(/dynamodb:GetItem for OrdersSagaSagaStepServiceRole/);
  });
});
