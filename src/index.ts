export * from './core/index.js';
export * from './timeout/index.js';
