import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpMiddleware, HttpRequest } from './http';
import { logger } from './logger';
import { HttpProblem } from './problem';

/**
 * Defence in depth behind API Gateway's IAM authorization of the service APIs.
 *
 * API Gateway refuses unsigned and ungranted calls before they reach a Lambda; this middleware
 * refuses, in code, any request whose event carries no verified IAM principal, so a gap in an
 * emulator or a misconfigured route never leaves a service open. It also decides whose word
 * counts for the identity headers the BFF sets after verifying the access token
 * (`x-customer-id`, `x-customer-role`, `x-client-ip`): they are kept only when the signed
 * caller is one of the trusted roles (the BFF's), and removed for everyone else.
 */
export const IDENTITY_HEADERS = ['x-customer-id', 'x-customer-role', 'x-client-ip'] as const;

type ApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** The ARN of the IAM principal API Gateway verified: HTTP API `authorizer.iam`, or a REST API's AWS_IAM identity. */
export function iamPrincipalArn(event: ApiEvent): string | undefined {
  const ctx = (event as unknown as { requestContext?: Record<string, unknown> }).requestContext;
  const iam = (ctx?.authorizer as { iam?: { userArn?: unknown } } | undefined)?.iam;
  if (typeof iam?.userArn === 'string' && iam.userArn) return iam.userArn;
  const identity = ctx?.identity as { userArn?: unknown } | undefined;
  if (typeof identity?.userArn === 'string' && identity.userArn) return identity.userArn;
  return undefined;
}

/** The role name in `arn:aws:sts::<acct>:assumed-role/<role>/<session>` or `arn:aws:iam::<acct>:role/<path/><role>`. */
export function roleNameOf(arn: string): string | undefined {
  const assumed = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  if (assumed) return assumed[1];
  const role = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[^/]+\/)*([^/]+)$/.exec(arn);
  return role?.[1];
}

export interface IamCallerOptions {
  /** Role names whose identity headers are believed (the BFF's execution role). */
  trustedRoles: readonly string[];
  /** Routes authenticated another way (provider webhooks, verified by signature in the handler). */
  open?: (req: HttpRequest) => boolean;
}

export function iamCallers(opts: IamCallerOptions): HttpMiddleware {
  const trusted = new Set(opts.trustedRoles);
  return {
    before: (request) => {
      const req = request.context.request;
      if (!req) return;
      if (opts.open?.(req)) {
        for (const h of IDENTITY_HEADERS) delete req.headers[h];
        return;
      }
      const arn = iamPrincipalArn(request.event);
      if (!arn) {
        throw new HttpProblem(403, 'forbidden', 'This service API accepts only IAM-signed calls from granted callers');
      }
      const role = roleNameOf(arn);
      if (!role || !trusted.has(role)) {
        const dropped = IDENTITY_HEADERS.filter((h) => req.headers[h] !== undefined);
        for (const h of dropped) delete req.headers[h];
        if (dropped.length) logger.warn('identity headers from an untrusted caller ignored', { caller: arn, headers: dropped, correlationId: req.correlationId });
      }
    },
  };
}
