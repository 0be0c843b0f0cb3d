export { listTasks } from './listTasks.ts';
