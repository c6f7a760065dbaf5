// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@assent/telemetry/register');

import { runService } from '@assent/runtime';
import { CatalogModule } from './catalog.module';

runService('catalog', (runtime) => CatalogModule.register(runtime)).catch((error) => {
  console.error(error);
  process.exit(1);
});
