import type { ServiceClient, ServiceResponse } from '../../shared/service-client';

/** Thin typed calls to catalog and payments internal APIs. Non-2xx answers come back as data. */
export interface Downstream {
  catalog: Pick<ServiceClient, 'call'>;
  payments: Pick<ServiceClient, 'call'>;
  /** Resumes a waiting task (SendTaskSuccess); the saga step hands over an early payment with it. */
  resume?: (taskToken: string, output: { outcome: 'succeeded' | 'failed'; detail?: unknown }) => Promise<void>;
}

export const body = <T = Record<string, unknown>>(res: ServiceResponse): T => {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    return {} as T;
  }
};

export class TechnicalFailure extends Error {
  constructor(what: string, res: ServiceResponse) {
    super(`${what} answered ${res.status}: ${res.body.slice(0, 300)}`);
    this.name = 'TechnicalFailure';
  }
}
