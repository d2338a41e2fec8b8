import { type Principal, requireAuth, requireRole } from '../shared/auth';
import type { HttpRequest, HttpResult, Route } from '../shared/http';

/**
 * Who may call a public route, declared next to the route itself: every BFF route is built
 * with `publicRoute`, so a route cannot exist without its access level, and the route table
 * (`publicRoutes()` in handlers/api.ts) is what the access test walks.
 *
 *  anyone    no token needed (reads, login, webhooks' public pages, the demos)
 *  signedIn  a valid access token (customer or admin): 401 problem+json without one
 *  admin     a valid token with the admin role: 401 without a token, 403 with another role
 *
 * The check runs before the handler, so a refused call never reaches a downstream service
 * (nor claims an Idempotency-Key).
 */
export type Access = 'anyone' | 'signedIn' | 'admin';

export interface PublicRoute extends Route {
  access: Access;
}

export type GuardedHandler = (req: HttpRequest, principal: Principal | undefined) => Promise<HttpResult> | HttpResult;

/** The principal the access level asks for (undefined for `anyone`), or a 401/403 problem. */
export async function authorize(req: HttpRequest, access: Access): Promise<Principal | undefined> {
  if (access === 'anyone') return undefined;
  const principal = await requireAuth(req);
  return access === 'admin' ? requireRole(principal, 'admin') : principal;
}

export function publicRoute(method: string, path: string, access: Access, handler: GuardedHandler): PublicRoute {
  return { method, path, access, handler: async (req) => handler(req, await authorize(req, access)) };
}

/** For routes that only someone signed in reaches: the principal `authorize` guaranteed. */
export function signedIn(principal: Principal | undefined): Principal {
  if (!principal) throw new Error('route declared without signedIn/admin access uses the principal');
  return principal;
}
