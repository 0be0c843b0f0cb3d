export { createTask } from './createTask.ts';
