import fs from 'node:fs';
import aslValidator from 'asl-validator';
import { SAGA_ASL_PATH } from '../../cdk/lib/platform';

type State = { Type: string; Next?: string; Default?: string; Catch?: { Next: string }[]; Choices?: { Next: string }[]; Parameters?: { Payload?: { step?: string } } };
const asl = JSON.parse(fs.readFileSync(SAGA_ASL_PATH, 'utf8')) as { StartAt: string; States: Record<string, State> };

const FORWARD = ['ReserveStock', 'CreatePaymentSession', 'WaitForPayment', 'CapturePayment', 'CompleteOrder'];

/** Follows Next from a state to the end; the compensation chain is linear. */
function chainFrom(name: string): string[] {
  const out: string[] = [];
  for (let s: string | undefined = name; s; s = asl.States[s].Next) out.push(s);
  return out;
}

describe('checkout saga ASL', () => {
  it('is valid Amazon States Language', () => {
    const { isValid, errors } = aslValidator(asl);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('runs the five forward steps in order', () => {
    const path: string[] = [];
    for (let s: string | undefined = asl.StartAt; s; ) {
      const st: State = asl.States[s];
      if (st.Type === 'Task') path.push(s);
      s = st.Type === 'Choice' ? st.Choices![0].Next : st.Next;
    }
    expect(path).toEqual(FORWARD);
  });

  // A step that failed by timeout may still have done its work (the reservation committed after
  // Step Functions gave up): its own undo runs too, and every undo is idempotent.
  it('catches every forward step into the compensations for what was (or may have been) done, in reverse', () => {
    const expected: Record<string, string[]> = {
      ReserveStock: ['ReleaseStock', 'MarkOrderFailed', 'OrderFailed'],
      CreatePaymentSession: ['CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed', 'OrderFailed'],
      WaitForPayment: ['CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed', 'OrderFailed'],
      CapturePayment: ['RefundPayment', 'ReleaseStock', 'MarkOrderFailed', 'OrderFailed'],
      CompleteOrder: ['RefundPayment', 'ReleaseStock', 'MarkOrderFailed', 'OrderFailed'],
    };
    for (const step of FORWARD) {
      const c = asl.States[step].Catch!;
      expect(c).toHaveLength(1);
      expect(chainFrom(c[0].Next)).toEqual(expected[step]);
    }
  });

  it('parks the order when a compensation keeps failing', () => {
    for (const comp of ['RefundPayment', 'CancelPaymentSession', 'ReleaseStock', 'MarkOrderFailed']) {
      expect(asl.States[comp].Catch![0].Next).toBe('ParkOrder');
    }
  });
});
