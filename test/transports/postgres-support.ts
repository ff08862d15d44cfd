// The PostgreSQL contract suite imports these from here; they live in test/support/postgres.ts.
export { dropSchemas, POSTGRES_PORT, schemaNamer, urlFor } from '../support/postgres.js';
