// Benchmarks are scripts (see main.ts); nothing to import.
export {};
