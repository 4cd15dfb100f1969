// Runs after every worker test file (vitest setupFiles): whatever a file did, its store ends
// with no data entry that no record references and no part record of a finished upload
// (tests that rewrite records by hand declare it with tampered()).
import { afterAll, expect } from 'vitest';
import { unexpectedOrphans } from './orphans';

afterAll(async () => {
  expect(await unexpectedOrphans(), 'unreferenced entries left in the store').toEqual([]);
});
