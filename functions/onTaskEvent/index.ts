export { onTaskEvent } from './onTaskEvent.ts';
