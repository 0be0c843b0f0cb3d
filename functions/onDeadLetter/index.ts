export { onDeadLetter } from './onDeadLetter.ts';
