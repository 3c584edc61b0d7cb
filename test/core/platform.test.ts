/**
 * macOS and Windows owner identity, on this Linux host: the platform and the command runner
 * are injected (platform.ts useHost), and the commands answer with outputs in the formats
 * those tools print (BSD ps with LC_ALL=C, sysctl -n, Windows PowerShell printing WMI's raw
 * CIM datetimes). The same code runs for real on GitHub's macOS and Windows runners
 * (test/core/portable.test.ts, .github/workflows/ci.yml).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bootId,
  describeProcess,
  GONE,
  pidNamespace,
  processLiveness,
  processStartTime,
  type ProcessOwner,
  type StartTime,
} from '../../src/core/owner.js';
import {
  icaclsGrantArgs,
  NO_PROCESS,
  parseBootSession,
  parseCimDatetime,
  parseLstart,
  parsePs,
  parseWinProcesses,
  useHost,
  winQuery,
  type CommandResult,
  type Host,
} from '../../src/core/platform.js';
import { ensureRegistryDir, registryError } from '../../src/core/dirs.js';
import { tempDir } from '../helpers.js';

interface Call {
  file: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
}

/**
 * A host whose commands answer from `answer` (by program name) and whose pids exist when
 * listed in `alive`. Every call is recorded.
 */
function fakeHost(
  platform: NodeJS.Platform,
  answer: (program: string, args: readonly string[]) => CommandResult,
  alive: number[] = [],
): { calls: Call[]; restore: () => void } {
  const calls: Call[] = [];
  const run: Host['run'] = (file, args, opts) => {
    calls.push({ file, args, env: opts.env });
    const program = file.split(/[\\/]/).pop() ?? file;
    return answer(program, args);
  };
  const restore = useHost({
    platform,
    run,
    exists: (pid) => alive.includes(pid),
    env: { SystemRoot: 'C:\\Windows' },
  });
  return { calls, restore };
}

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

const ok = (stdout: string): CommandResult => ({ status: 0, stdout });
const fail: CommandResult = { status: 1, stdout: '' };
const timedOut: CommandResult = { status: null, stdout: '' };

// --- outputs in each tool's format
const BOOT_A = '9E1B3C5A-6F0D-4D6B-8D8E-2C1F0A3B4C5D\n'; // sysctl -n kern.bootsessionuuid
const BOOT_B = '0B7F2E44-1A2B-4C3D-9E8F-A1B2C3D4E5F6\n'; // the same Mac after a reboot
const PS_WORKER = 'Ss   Mon Nov 27 17:58:03 2023\n'; // ps -o stat= -o lstart= -p 4242
const PS_REUSED = 'S    Tue Nov 28 09:05:41 2023\n'; // pid 4242 again, another process
const PS_PADDED = 'R+   Tue Nov  7 09:05:01 2023\n'; // a one-digit day is padded with a space
const PS_ZOMBIE = 'Z    Mon Nov 27 17:58:03 2023\n';
const WIN_WORKER = '4242 20231127175803.512345+060\r\n'; // PID CreationDate (raw CIM datetime)
const WIN_REUSED = '4242 20231128090541.004211+060\r\n';
const WIN_SNAPSHOT =
  '0 \r\n4 \r\n' + // System Idle Process and System: no CreationDate
  '4242 20231127175803.512345+060\r\n' +
  '5151 20231127180012.250000+060\r\n' +
  '6060 20231127180500.000001+060\r\n';

function darwin(ps: CommandResult, sysctl: CommandResult = ok(BOOT_A), alive = [4242]) {
  return fakeHost('darwin', (program) => (program === 'ps' ? ps : sysctl), alive);
}

function owner(extra: Partial<ProcessOwner>): ProcessOwner {
  return {
    kind: 'process',
    pid: 4242,
    start: null,
    boot: null,
    host: hostname(),
    pidns: null,
    ...extra,
  };
}

describe('macOS: parsers', () => {
  it('reads ps lstart (C locale, UTC) as Unix seconds', () => {
    expect(parseLstart('Mon Nov 27 17:58:03 2023')).toBe(
      String(Date.UTC(2023, 10, 27, 17, 58, 3) / 1000),
    );
    expect(parseLstart('Tue Nov  7 09:05:01 2023')).toBe(
      String(Date.UTC(2023, 10, 7, 9, 5, 1) / 1000),
    );
    expect(parsePs(PS_WORKER)).toBe('1701107883');
    expect(parsePs(PS_PADDED)).toBe(parseLstart('Tue Nov  7 09:05:01 2023'));
    expect(parsePs(PS_ZOMBIE)).toBe(NO_PROCESS);
  });

  it.each([
    ['', 'no process listed'],
    ['Ss\n', 'no start column'],
    ['Ss   lun. 27 nov. 17:58:03 2023\n', 'another locale'],
    ['Ss   Tue Nov 27 17:58:03 2023\n', 'a weekday that does not match the date'],
    ['Ss   Thu Feb 30 10:00:00 2023\n', 'a date that does not exist'],
    ['Ss   Mon Nov 27 17:58 2023\n', 'no seconds'],
    ['ps: illegal option -- o\n', 'an error message'],
  ])('gives null (unknown), never gone, for %j (%s)', (text) => {
    expect(parsePs(text)).toBeNull();
  });

  it('reads the boot session UUID', () => {
    expect(parseBootSession(BOOT_A)).toBe('9e1b3c5a-6f0d-4d6b-8d8e-2c1f0a3b4c5d');
    expect(
      parseBootSession('{ sec = 1700000000, usec = 123456 } Tue Nov 14 22:13:20 2023'),
    ).toBeNull();
    expect(parseBootSession('')).toBeNull();
  });
});

describe('macOS: owners', () => {
  it('runs ps and sysctl by absolute path, in the C locale and UTC, without a shell', () => {
    const h = darwin(ok(PS_WORKER));
    restore = h.restore;
    expect(processStartTime(4242)).toBe('1701107883');
    expect(bootId()).toBe('9e1b3c5a-6f0d-4d6b-8d8e-2c1f0a3b4c5d');
    expect(h.calls.map((c) => [c.file, c.args])).toEqual([
      ['/bin/ps', ['-o', 'stat=', '-o', 'lstart=', '-p', '4242']],
      ['/usr/sbin/sysctl', ['-n', 'kern.bootsessionuuid']],
    ]);
    for (const c of h.calls) expect(c.env).toMatchObject({ LC_ALL: 'C', TZ: 'UTC0' });
    expect(pidNamespace()).toBeNull();
  });

  it('describes a process with its start time and boot session', () => {
    const h = fakeHost('darwin', (p) => (p === 'ps' ? ok(PS_WORKER) : ok(BOOT_A)), [process.pid]);
    restore = h.restore;
    const me = describeProcess(process.pid);
    expect(me).toMatchObject({ pid: process.pid, start: '1701107883', pidns: null });
    expect(me?.boot).toBe('9e1b3c5a-6f0d-4d6b-8d8e-2c1f0a3b4c5d');
    // The caller's own start time is looked up once per process, the boot session once.
    describeProcess(process.pid);
    expect(h.calls.filter((c) => c.file === '/bin/ps')).toHaveLength(1);
    expect(h.calls.filter((c) => c.file === '/usr/sbin/sysctl')).toHaveLength(1);
  });

  it('same pid, same start, same boot: alive', () => {
    restore = darwin(ok(PS_WORKER)).restore;
    expect(processLiveness(owner({ start: '1701107883', boot: parseBootSession(BOOT_A) }))).toBe(
      'alive',
    );
  });

  it('pid reused (another start time): dead', () => {
    restore = darwin(ok(PS_REUSED)).restore;
    expect(processLiveness(owner({ start: '1701107883', boot: parseBootSession(BOOT_A) }))).toBe(
      'dead',
    );
  });

  it('another boot session on this host (rebooted): dead, even if the pid and start match', () => {
    restore = darwin(ok(PS_WORKER), ok(BOOT_B)).restore;
    expect(processLiveness(owner({ start: '1701107883', boot: parseBootSession(BOOT_A) }))).toBe(
      'dead',
    );
  });

  it('another boot session under another host name: unknown (another machine)', () => {
    restore = darwin(ok(PS_WORKER), ok(BOOT_B)).restore;
    const o = owner({ start: '1701107883', boot: parseBootSession(BOOT_A), host: 'other-mac' });
    expect(processLiveness(o)).toBe('unknown');
  });

  it('pid gone (the kernel says so): dead; a zombie: dead', () => {
    restore = darwin(fail, ok(BOOT_A), []).restore;
    expect(processLiveness(owner({ start: '1701107883', boot: parseBootSession(BOOT_A) }))).toBe(
      'dead',
    );
    restore();
    restore = darwin(ok(PS_ZOMBIE)).restore;
    expect(processLiveness(owner({ start: '1701107883' }))).toBe('dead');
  });

  it('unparsable or failing ps while the pid exists: alive, never dead', () => {
    for (const ps of [ok('Ss   lun. 27 nov. 17:58:03 2023\n'), ok(''), fail, timedOut]) {
      restore = darwin(ps).restore;
      expect(processLiveness(owner({ start: '1701107883', boot: parseBootSession(BOOT_A) }))).toBe(
        'alive',
      );
      restore();
      restore = undefined;
    }
  });

  it('an unreadable boot session gives no boot verdict; the start time still decides', () => {
    restore = darwin(ok(PS_WORKER), ok('sysctl: unknown oid\n')).restore;
    expect(bootId()).toBeNull();
    expect(processLiveness(owner({ start: '1701107883', boot: parseBootSession(BOOT_B) }))).toBe(
      'alive',
    );
    restore();
    restore = darwin(ok(PS_REUSED), fail).restore;
    expect(processLiveness(owner({ start: '1701107883', boot: parseBootSession(BOOT_B) }))).toBe(
      'dead',
    );
  });
});

describe('Windows: parsers', () => {
  it('reads CIM datetimes as UTC microseconds, whatever the offset they are written in', () => {
    const utc = Date.UTC(2023, 10, 27, 16, 58, 3) * 1000 + 512345;
    expect(parseCimDatetime('20231127175803.512345+060')).toBe(String(utc));
    // The same instant written after a time-zone or daylight-saving change: the same start.
    expect(parseCimDatetime('20231127165803.512345+000')).toBe(String(utc));
    expect(parseCimDatetime('20231127115803.512345-300')).toBe(String(utc));
  });

  it.each([
    ['', 'empty'],
    ['********175803.512345+060', 'wildcards'],
    ['20231127175803+060', 'no microseconds'],
    ['20230230175803.000000+060', 'a date that does not exist'],
    ['20231127175803.512345+9999', 'a bad offset'],
    ['27/11/2023 17:58:03', 'a formatted date'],
  ])('gives null for %j (%s)', (text) => {
    expect(parseCimDatetime(text)).toBeNull();
  });

  it('reads the query output, skipping processes without a creation date', () => {
    const m = parseWinProcesses(WIN_SNAPSHOT);
    expect([...m.keys()]).toEqual([4242, 5151, 6060]);
    expect(m.get(4242)).toBe(parseCimDatetime('20231127175803.512345+060'));
    expect(parseWinProcesses('Get-WmiObject : Access denied\r\n').size).toBe(0);
  });
});

function windows(answer: (script: string) => CommandResult, alive = [4242]) {
  return fakeHost(
    'win32',
    (program, args) => {
      expect(program).toBe('powershell.exe');
      const encoded = args[args.indexOf('-EncodedCommand') + 1] ?? '';
      return answer(Buffer.from(encoded, 'base64').toString('utf16le'));
    },
    alive,
  );
}

describe('Windows: owners', () => {
  const start = parseCimDatetime('20231127175803.512345+060');

  it('runs Windows PowerShell by absolute path with an encoded WMI query', () => {
    const scripts: string[] = [];
    const h = windows((s) => (scripts.push(s), ok(WIN_WORKER)));
    restore = h.restore;
    expect(processStartTime(4242)).toBe(start);
    expect(h.calls[0]?.file).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(h.calls[0]?.args.slice(0, 4)).toEqual([
      '-NoLogo',
      '-NoProfile',
      '-NonInteractive',
      '-EncodedCommand',
    ]);
    expect(scripts).toEqual([winQuery(4242)]);
    expect(winQuery(4242)).toContain('FROM Win32_Process WHERE ProcessId=4242');
    expect(bootId()).toBeNull(); // see platform.ts: LastBootUpTime moves with the clock
    expect(pidNamespace()).toBeNull();
  });

  it('same pid, same creation time: alive', () => {
    restore = windows(() => ok(WIN_WORKER)).restore;
    expect(processLiveness(owner({ start }))).toBe('alive');
  });

  it('pid reused (another creation time): dead', () => {
    restore = windows(() => ok(WIN_REUSED)).restore;
    expect(processLiveness(owner({ start }))).toBe('dead');
  });

  it('after a reboot (boot time changed): the pid is gone or was created again, so dead', () => {
    // Records carry no boot identity on Windows; the absolute creation time shows the reboot.
    restore = windows(() => ok(''), []).restore;
    expect(processLiveness(owner({ start }))).toBe('dead');
    restore();
    restore = windows(() => ok('4242 20231201080000.000000+060\r\n')).restore;
    expect(processLiveness(owner({ start }))).toBe('dead');
  });

  it('unparsable, failing or timed-out PowerShell while the pid exists: alive, never dead', () => {
    for (const r of [ok('4242 ********175803.512345+060\r\n'), ok('garbage'), fail, timedOut]) {
      restore = windows(() => r).restore;
      expect(processLiveness(owner({ start }))).toBe('alive');
      restore();
      restore = undefined;
    }
  });

  it('one registry operation takes one snapshot of every process, not one query per owner', () => {
    const h = windows(() => ok(WIN_SNAPSHOT), [4242, 5151, 7070]);
    restore = h.restore;
    const cache = new Map<number, StartTime>();
    const s5151 = parseCimDatetime('20231127180012.250000+060');
    expect(processLiveness(owner({ start }), cache)).toBe('alive');
    expect(processLiveness(owner({ pid: 5151, start: s5151 }), cache)).toBe('alive');
    expect(processLiveness(owner({ pid: 6060, start: s5151 }), cache)).toBe('dead'); // reused
    expect(processLiveness(owner({ pid: 7070, start: s5151 }), cache)).toBe('alive'); // not listed
    expect(processLiveness(owner({ pid: 8080, start: s5151 }), cache)).toBe('dead'); // gone
    expect(h.calls).toHaveLength(1);
    expect(Buffer.from(h.calls[0]?.args[4] ?? '', 'base64').toString('utf16le')).toBe(
      winQuery(null),
    );
    // A new operation (a new cache) takes a new snapshot.
    processLiveness(owner({ start }), new Map());
    expect(h.calls).toHaveLength(2);
  });
});

describe('the registry directory on Windows', () => {
  it('grants BUILTIN\\Users modify rights, inherited, when it creates the directory', () => {
    const h = fakeHost('win32', () => ok('Successfully processed 1 files\r\n'));
    restore = h.restore;
    const dir = join(tempDir(), 'portlease');
    ensureRegistryDir(dir);
    expect(existsSync(dir)).toBe(true);
    expect(h.calls.map((c) => [c.file, c.args])).toEqual([
      ['C:\\Windows\\System32\\icacls.exe', [dir, '/grant', '*S-1-5-32-545:(OI)(CI)M', '/Q']],
    ]);
    expect(icaclsGrantArgs('C:\\ProgramData\\portlease')[2]).toBe('*S-1-5-32-545:(OI)(CI)M');
    ensureRegistryDir(dir); // exists already: left as the administrator made it
    expect(h.calls).toHaveLength(1);
  });

  it('never runs icacls elsewhere, and names the fix in a permission error', () => {
    const h = fakeHost('linux', () => {
      throw new Error('no command may run');
    });
    restore = h.restore;
    const dir = join(tempDir(), 'reg');
    mkdirSync(dir);
    ensureRegistryDir(join(dir, 'sub'));
    expect(h.calls).toHaveLength(0);
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    expect(registryError(dir, eacces).message).toContain('mode 0777');
    restore();
    restore = fakeHost('win32', () => ok('')).restore;
    expect(registryError('C:\\ProgramData\\portlease', eacces).message).toContain(
      'icacls "C:\\ProgramData\\portlease" /grant *S-1-5-32-545:(OI)(CI)M',
    );
  });
});

describe('Linux is unchanged', () => {
  it('reads /proc and runs no command', () => {
    const h = fakeHost('linux', () => {
      throw new Error('no command may run');
    });
    restore = h.restore;
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(start).not.toBe(GONE);
    expect(bootId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.calls).toHaveLength(0);
  });
});
