export { listDeadLetters } from './listDeadLetters.ts';
