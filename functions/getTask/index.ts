export { getTask } from './getTask.ts';
