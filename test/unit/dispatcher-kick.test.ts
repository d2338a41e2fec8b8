import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { dispatcherKick } from '../../functions/shared/mesh';
import { logger } from '../../functions/shared/logger';
import { createSigner } from '../../functions/shared/sigv4';

/**
 * The after-commit kick (functions/shared/mesh.ts): one SigV4-signed asynchronous Invoke of the
 * dispatcher, sent to a local server standing in for Lambda's API. The signature is checked the
 * way the service checks it: recomputed from the request the server received.
 */
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let endpoint: string;
let received: Received[];
let answers: number[];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const status = answers.shift() ?? 202;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 202 ? '' : JSON.stringify({ Type: 'User', message: `status ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  answers = [];
});

const kick = (name: string | undefined = 'CheckoutMesh-Dispatcher-1') =>
  dispatcherKick(
    { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: endpoint, DISPATCHER_FUNCTION_NAME: name },
    { signer: createSigner({ region: 'eu-west-1', service: 'lambda', credentials }), sleep: async () => undefined },
  );

/** The Authorization header the service would compute for what it received. */
async function expectedAuthorization(r: Received): Promise<string> {
  const date = r.headers['x-amz-date'] as string;
  const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
  const signedNames = /SignedHeaders=([^,]+)/.exec(r.headers.authorization as string)![1].split(';');
  const headers = Object.fromEntries(signedNames.map((h) => [h, String(r.headers[h])]));
  const url = new URL(r.url, endpoint);
  const signed = await new SignatureV4({ service: 'lambda', region: 'eu-west-1', credentials, sha256: Sha256, uriEscapePath: true, applyChecksum: false }).sign(
    { method: r.method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers, body: r.body },
    { signingDate },
  );
  return signed.headers.authorization;
}

describe('the dispatcher kick', () => {
  it("sends one asynchronous Invoke of the dispatcher, signed for lambda with the caller's credentials", async () => {
    await kick()();
    expect(received).toHaveLength(1);
    const [r] = received;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/2015-03-31/functions/CheckoutMesh-Dispatcher-1/invocations');
    expect(r.headers['x-amz-invocation-type']).toBe('Event');
    expect(r.headers['x-amz-security-token']).toBe('session');
    expect(JSON.parse(r.body)).toEqual({ source: 'after-commit' });
    expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=/);
    expect(r.headers.authorization).toBe(await expectedAuthorization(r));
  });

  it('encodes a function ARN in the path as the Invoke API expects', async () => {
    await kick('arn:aws:lambda:eu-west-1:123456789012:function:dispatcher')();
    expect(received[0].url).toBe('/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Adispatcher/invocations');
    expect(received[0].headers.authorization).toBe(await expectedAuthorization(received[0]));
  });

  it('tries again on a throttle or a 5xx, three attempts in all, and never throws (the sweep publishes)', async () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      answers = [429, 503];
      await kick()();
      expect(received).toHaveLength(3);
      expect(warn).not.toHaveBeenCalled();

      received = [];
      answers = [500, 502, 503];
      await expect(kick()()).resolves.toBeUndefined();
      expect(received).toHaveLength(3);
      expect(warn).toHaveBeenCalledWith('dispatcher kick failed; the sweep will publish', { error: expect.stringMatching(/^Invoke answered 503/) });
    } finally {
      warn.mockRestore();
    }
  });

  it('does not retry a refusal (no grant, no such function), and is a no-op without a dispatcher', async () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      answers = [403];
      await kick()();
      expect(received).toHaveLength(1);
      expect(warn).toHaveBeenCalledTimes(1);
      received = [];
      await kick('')();
      expect(received).toHaveLength(0);
    } finally {
      warn.mockRestore();
    }
  });
});
