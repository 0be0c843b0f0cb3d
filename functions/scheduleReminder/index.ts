export { scheduleReminder } from './scheduleReminder.ts';
