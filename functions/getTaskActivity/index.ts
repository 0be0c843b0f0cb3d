export { getTaskActivity } from './getTaskActivity.ts';
