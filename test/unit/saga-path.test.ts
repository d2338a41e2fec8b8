import fs from 'node:fs';
import path from 'node:path';

/**
 * How the saga graph lights one execution (web/js/saga-graph.js, executedPath): from a Step
 * Functions history to each state's status and the transitions taken.
 */
interface Visit {
  name: string;
  status: string;
  input?: string;
  output?: string;
  error?: string;
  attempts: number;
  retriedAfter?: string;
  eventIds: number[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { executedPath } = require('../../web/js/saga-graph.js') as {
  executedPath: (events: unknown[], asl: unknown, results?: Record<string, string>) => { states: Map<string, Visit>; taken: Set<string> };
};
const asl = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../stepfunctions/checkout-saga.asl.json'), 'utf8')) as unknown;

let id = 0;
const ev = (type: string, more: Record<string, unknown> = {}) => ({ id: ++id, type, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(), ...more });
const task = (name: string, ...inside: Array<ReturnType<typeof ev>>) => [
  ev('TaskStateEntered', { name, input: `{"at":"${name}"}` }),
  ...inside,
  ev('TaskStateExited', { name, output: `{"after":"${name}"}` }),
];
const choice = (name: string) => [ev('ChoiceStateEntered', { name }), ev('ChoiceStateExited', { name })];
const ok = () => [ev('TaskScheduled'), ev('TaskSucceeded', { output: '{}' })];
const statuses = (p: ReturnType<typeof executedPath>) => Object.fromEntries([...p.states].map(([k, v]) => [k, v.status]));
const edge = (from: string, to: string) => `${from}\u0000${to}`;

beforeEach(() => (id = 0));

it('a declined payment: WaitForPayment answered no, the compensations lit, OrderFailed failed', () => {
  const events = [
    ev('ExecutionStarted'),
    ...task('ReserveStock', ...ok()),
    ...choice('StockReserved?'),
    ...task('CreatePaymentSession', ...ok()),
    ...choice('SessionCreated?'),
    ...task('WaitForPayment', ...ok()),
    ...choice('PaymentAuthorized?'),
    ...task('CancelPaymentSession', ...ok()),
    ...task('ReleaseStock', ...ok()),
    ...task('MarkOrderFailed', ...ok()),
    ev('FailStateEntered', { name: 'OrderFailed' }),
    ev('ExecutionFailed', { error: 'OrderFailed' }),
  ];
  const p = executedPath(events, asl, { WaitForPayment: 'failed' });
  expect(statuses(p)).toEqual({
    ReserveStock: 'succeeded',
    'StockReserved?': 'succeeded',
    CreatePaymentSession: 'succeeded',
    'SessionCreated?': 'succeeded',
    WaitForPayment: 'rejected',
    'PaymentAuthorized?': 'succeeded',
    CancelPaymentSession: 'compensation',
    ReleaseStock: 'compensation',
    MarkOrderFailed: 'compensation',
    OrderFailed: 'failed',
  });
  expect(p.taken.has(edge('Start', 'ReserveStock'))).toBe(true);
  expect(p.taken.has(edge('PaymentAuthorized?', 'CancelPaymentSession'))).toBe(true);
  expect(p.taken.has(edge('MarkOrderFailed', 'OrderFailed'))).toBe(true);
  expect(p.taken.has(edge('PaymentAuthorized?', 'CapturePayment'))).toBe(false);
  expect(p.states.get('WaitForPayment')).toMatchObject({ input: '{"at":"WaitForPayment"}', output: '{"after":"WaitForPayment"}' });
});

it('a task failure left through its Catch is "caught", with its error; a retry that worked is a success', () => {
  const events = [
    ev('ExecutionStarted'),
    ...task(
      'ReserveStock',
      ev('TaskScheduled'),
      ev('TaskFailed', { error: 'Lambda.TooManyRequestsException', cause: 'throttled' }),
      ev('TaskScheduled'),
      ev('TaskSucceeded'),
    ),
    ...choice('StockReserved?'),
    ...task('CreatePaymentSession', ev('TaskScheduled'), ev('TaskFailed', { error: 'Runtime.HandlerError', cause: '{"errorMessage":"boom"}' })),
    ...task('CancelPaymentSession', ...ok()),
  ];
  const p = executedPath(events, asl);
  expect(p.states.get('ReserveStock')).toMatchObject({ status: 'succeeded', attempts: 2, retriedAfter: 'Lambda.TooManyRequestsException', error: undefined });
  expect(p.states.get('CreatePaymentSession')).toMatchObject({ status: 'caught', error: 'Runtime.HandlerError' });
  expect(p.taken.has(edge('CreatePaymentSession', 'CancelPaymentSession'))).toBe(true);
  expect(p.states.get('CancelPaymentSession')!.status).toBe('compensation');
});

it('a state still in progress is running; nothing else is lit', () => {
  const events = [
    ev('ExecutionStarted'),
    ...task('ReserveStock', ...ok()),
    ...choice('StockReserved?'),
    ev('TaskStateEntered', { name: 'CreatePaymentSession' }),
    ev('TaskScheduled'),
  ];
  const p = executedPath(events, asl);
  expect(statuses(p)).toEqual({ ReserveStock: 'succeeded', 'StockReserved?': 'succeeded', CreatePaymentSession: 'running' });
  // Every event of a visit is counted as that state's (the event list marks them).
  expect(p.states.get('CreatePaymentSession')!.eventIds).toHaveLength(2);
});
