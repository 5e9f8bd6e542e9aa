export * from './proxy/index.js';
