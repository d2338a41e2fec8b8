import * as z from 'zod';

/**
 * The request bodies identity validates (its handler parses with these). In a module of their
 * own, free of the auth service's dependencies, so the BFF's OpenAPI description
 * (functions/bff/openapi/) documents the very same schemas without bundling the service.
 */
export const Credentials = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email().max(254)),
  password: z.string().min(8).max(256),
});
export type Credentials = z.infer<typeof Credentials>;

/** Login only checks shapes loosely: a wrong-looking password is just a wrong password. */
export const LoginBody = z.object({
  email: z.string().trim().toLowerCase().min(1).max(254),
  password: z.string().min(1).max(256),
});

export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(512) });
