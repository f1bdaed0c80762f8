import { readFile } from 'node:fs/promises';

/**
 * CPU seconds (user and system) a local process has spent so far, from /proc/<pid>/stat; undefined
 * when it cannot be read (not Linux, or the process is gone). What the benches report beside
 * rates: a process's CPU per unit of work moves far less with the machine's load than its rate does.
 */
export async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in
  // clock ticks (100 a second on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
