export * from '../lib/index.js';
export { default } from '../lib/index.js';
