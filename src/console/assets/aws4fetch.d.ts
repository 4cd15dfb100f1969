// The type checker's view of "./aws4fetch.js", which the console serves as aws4fetch's own ESM
// build (src/console/index.ts); tsconfig.console.json checks the scripts that import it.
export { AwsClient } from 'aws4fetch';
