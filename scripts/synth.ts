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
synthesize(target)
  .then((template) => console.log(`✓ ${target} template: ${template}`))
  .catch((err: Error) => {
    console.error(`✗ ${err.message}`);
    process.exit(1);
  });
