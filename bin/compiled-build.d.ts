// Types of compiled-build.js, for the tests.
export function compiledModule(root: string, module: string): string | null;
