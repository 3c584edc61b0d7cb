/**
 * How the container step shows a service's life in the job log: phases as core.group,
 * lines as core.info / core.warning, and container output with workflow commands off.
 */
import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';
import type { ServiceLog } from '../engines/service.js';

/** Print untrusted text (container output) with workflow commands switched off. */
export function printUntrusted(text: string): void {
  if (text.trim() === '') {
    core.info('(no output)');
    return;
  }
  const token = randomBytes(16).toString('hex');
  core.info(`::stop-commands::${token}`);
  for (const line of text.replace(/\n$/, '').split('\n')) core.info(line);
  core.info(`::${token}::`);
}

export const stepLog: ServiceLog = {
  info: (msg) => {
    core.info(msg);
  },
  warn: (msg) => {
    core.warning(msg);
  },
  group: (title, fn) => core.group(title, fn),
  untrusted: printUntrusted,
};
