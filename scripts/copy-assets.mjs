// tsc compiles only TypeScript: the SQL migrations travel to dist/ beside the code that reads them.
import { cpSync } from 'node:fs';

cpSync('src/store/migrations', 'dist/store/migrations', { recursive: true });
