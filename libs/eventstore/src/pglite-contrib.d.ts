// PGlite publishes its contrib extensions through package `exports`, which our `moduleResolution: node`
// does not read; Node resolves them at run time, this tells TypeScript what they are.
declare module '@electric-sql/pglite/contrib/pg_trgm' {
  import type { Extension } from '@electric-sql/pglite';
  export const pg_trgm: Extension;
}
