declare module 'asl-validator' {
  /** Validates an Amazon States Language definition. */
  export default function aslValidator(
    definition: unknown,
    opts?: { checkPaths?: boolean; checkArn?: boolean },
  ): { isValid: boolean; errors: unknown[]; errorsText: (separator?: string) => string };
}
