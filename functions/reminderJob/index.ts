export { reminderJob } from './reminderJob.ts';
