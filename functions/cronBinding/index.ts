export { cronBinding } from './cronBinding.ts';
