// Types for tools.mjs (imported by the e2e tests).
export function onPath(name: string): string | undefined;
export function findBrowser(): string | undefined;
export const TEST_TOOLS: { name: string; find: () => string | undefined; debian: string }[];
