export { deleteTask } from './deleteTask.ts';
