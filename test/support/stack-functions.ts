import { LambdaClient, ListFunctionsCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { awsClientConfig } from './endpoints';

/**
 * The stack's deployed Lambdas (ours carry SERVICE_NAME, cdk/lib/service-function.ts; the
 * emulator may hold others, e.g. the bench floor), every page of ListFunctions.
 */
export async function stackFunctions(clientConfig: ConstructorParameters<typeof LambdaClient>[0] = awsClientConfig()): Promise<FunctionConfiguration[]> {
  const lambda = new LambdaClient(clientConfig);
  try {
    const fns: FunctionConfiguration[] = [];
    let Marker: string | undefined;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ Marker, MaxItems: 50 }));
      fns.push(...(page.Functions ?? []));
      Marker = page.NextMarker;
    } while (Marker);
    return fns.filter((f) => f.Environment?.Variables?.SERVICE_NAME);
  } finally {
    lambda.destroy();
  }
}
