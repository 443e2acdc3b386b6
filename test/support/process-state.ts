import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat after the program's name: state, parent pid, … */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Running, as opposed to gone or a zombie waiting for a parent that never reaps it. */
export function isAlive(pid: number): boolean {
  try {
    return statFields(pid)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pid of the process's parent. */
export function parentOf(pid: number): number {
  return Number(statFields(pid)[1]);
}
