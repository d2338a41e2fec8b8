import {
  SFNClient,
  StartExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  ExecutionAlreadyExists,
  type HistoryEvent as SfnHistoryEvent,
} from '@aws-sdk/client-sfn';
import type { HistoryEvent } from '../core/model';

export const sfn = new SFNClient({});

/** The execution ARN a given name gets (name = orderId), known before starting it. */
export const executionArnFor = (stateMachineArn: string, name: string): string => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/** Starts the saga; an execution with that name already existing means it was started: not an error. */
export async function startSaga(stateMachineArn: string, orderId: string, input: Record<string, unknown>): Promise<{ started: boolean }> {
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name: orderId, input: JSON.stringify(input) }));
    return { started: true };
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') return { started: false };
    throw err;
  }
}

export async function executionHistory(executionArn: string): Promise<HistoryEvent[]> {
  const out: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    for (const e of page.events ?? []) out.push(simplify(e));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

function simplify(e: SfnHistoryEvent): HistoryEvent {
  const detail = e.stateEnteredEventDetails ?? e.stateExitedEventDetails ?? undefined;
  const failed =
    e.taskFailedEventDetails ??
    e.taskTimedOutEventDetails ??
    e.lambdaFunctionFailedEventDetails ??
    e.executionFailedEventDetails ??
    e.executionTimedOutEventDetails ??
    undefined;
  return {
    id: e.id,
    previousEventId: e.previousEventId,
    type: e.type ?? 'unknown',
    timestamp: e.timestamp ? new Date(e.timestamp).toISOString() : new Date(0).toISOString(),
    name: detail?.name,
    error: failed?.error,
    cause: failed?.cause,
    input: e.stateEnteredEventDetails?.input ?? e.executionStartedEventDetails?.input,
    output: e.stateExitedEventDetails?.output ?? e.taskSucceededEventDetails?.output ?? e.executionSucceededEventDetails?.output,
  };
}

export async function resumeWaitForPayment(taskToken: string, output: { outcome: 'succeeded' | 'failed'; detail?: unknown }): Promise<void> {
  await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
}
