export { updateTask } from './updateTask.ts';
