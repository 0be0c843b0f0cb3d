export { relayTaskWrite } from './relayTaskWrite.ts';
