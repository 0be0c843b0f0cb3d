export { completeTask } from './completeTask.ts';
