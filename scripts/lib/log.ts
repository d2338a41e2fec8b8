/** Console output of the npm scripts: short, one line per step. */
const isTty = process.stdout.isTTY;
const paint = (code: number, s: string) => (isTty ? `\u001b[${code}m${s}\u001b[0m` : s);

export const say = {
  step: (msg: string) => console.log(`${paint(36, '›')} ${msg}`),
  ok: (msg: string) => console.log(`${paint(32, '✓')} ${msg}`),
  warn: (msg: string) => console.log(`${paint(33, '!')} ${msg}`),
  info: (msg: string) => console.log(`  ${msg}`),
};

/** An error the user can act on: printed as one line, without a stack trace. */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}
