/**
 * npm run synth:aws | synth:local: synthesizes one target into cdk.out.<target>/ with no AWS
 * account and no network (aws: example context, see scripts/lib/synth.ts).
 */
import { synthesize, type SynthTarget } from './lib/synth';

const target = process.argv[2] as SynthTarget;
if (target !== 'aws' && target !== 'local') {
  console.error('usage: tsx scripts/synth.ts aws|local');
  process.exit(2);
}
try {
  console.log(`✓ ${target} template: ${synthesize(target)}`);
} catch (err) {
  console.error(`✗ ${(err as Error).message}`);
  process.exit(1);
}
