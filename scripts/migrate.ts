/** npm run migrate: apply migrations/<service>/*.sql with the one runner. */
import { migrate } from './lib/migrate';
import { MIGRATIONS } from './lib/paths';
import { adminPgUrl } from './lib/settings';

migrate(adminPgUrl(), MIGRATIONS)
  .then((r) => console.log(`✓ ${r.applied.length} applied (${r.applied.join(', ') || 'none'}), ${r.skipped} already applied`))
  .catch((err: Error) => {
    console.error(`✗ ${err.message}`);
    process.exit(1);
  });
