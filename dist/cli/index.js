#!/usr/bin/env node
import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 680:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  a: () => (/* binding */ runCli)
});

;// CONCATENATED MODULE: ./src/cli/signals.ts
/**
 * Imported first by the CLI, so it runs before anything else is loaded.
 *
 * SIGUSR1 makes Node start its inspector: a debugger on 127.0.0.1:9229 that any local user
 * may connect to and run code through, in a tool that may run as root.
 *
 * - From here on, a JS listener replaces Node's own SIGUSR1 handler: the signal only
 *   reaches this listener (and `exec` forwards it to its command). It stays installed for
 *   the life of the process: with no listener left, SIGUSR1 would kill it.
 * - A SIGUSR1 that came during Node's start-up, before this line, has started the
 *   inspector already (or will, at the first turn of the event loop: Node starts it both
 *   from an interrupt and from an async callback). It is ended here, at the first turn and
 *   once more shortly after, unless Node was started with --inspect on purpose.
 *
 * `node --disable-sigusr1` would close even the start-up window, but the bin must run under
 * plain `node`, and Node before 22.14 refuses that flag (in the shebang or NODE_OPTIONS).
 * Where every node is new enough, NODE_OPTIONS=--disable-sigusr1 does it for good.
 */
process.on('SIGUSR1', () => undefined);
const onPurpose = process.execArgv.some((a) => a.startsWith('--inspect')) ||
    /--inspect/.test(process.env.NODE_OPTIONS ?? '');
if (!onPurpose) {
    const end = () => {
        process._debugEnd?.();
    };
    end();
    setImmediate(end);
    setTimeout(end, 100).unref();
}


;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:util"
const external_node_util_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");
;// CONCATENATED MODULE: ./src/core/errors.ts
/**
 * Errors the core raises on purpose. Every message is one line meant for a person:
 * the shells (CLI, action, container step) print `message` and nothing else.
 *
 * - `UsageError`: the input is wrong (exit 2 in the CLI). Raised before the registry
 *   is touched, so the registry is never changed by bad input.
 * - `RuntimeError`: the input was fine but the work could not be done (range full,
 *   registry not writable, disk full, lock held too long): exit 1 in the CLI.
 */
class PortleaseError extends Error {
    name = 'PortleaseError';
}
class errors_UsageError extends PortleaseError {
    name = 'UsageError';
}
class RuntimeError extends PortleaseError {
    name = 'RuntimeError';
}
/**
 * A leased port could not be listened on: `code` is the errno (EADDRINUSE: a process outside
 * the registry holds it; EADDRNOTAVAIL: not an address of this host; EACCES).
 */
class ListenError extends RuntimeError {
    name = 'ListenError';
    code;
    host;
    port;
    constructor(message, where) {
        super(message);
        this.code = where.code;
        this.host = where.host;
        this.port = where.port;
    }
}
/** The errno code of a Node system error, or undefined. */
function errnoCode(err) {
    if (typeof err === 'object' && err !== null && 'code' in err) {
        const code = err.code;
        return typeof code === 'string' ? code : undefined;
    }
    return undefined;
}
/** A short, single-line description of any thrown value (never a stack trace). */
function describeError(err) {
    if (err instanceof Error)
        return err.message.split('\n')[0] ?? String(err);
    return String(err).split('\n')[0] ?? 'unknown error';
}

;// CONCATENATED MODULE: ./src/core/parse.ts
/**
 * Parsing and validation of everything a user can pass in, shared by the CLI, the action
 * and the container step. Each parser throws a `UsageError` whose one line names the input
 * (`label`) and says what would be accepted.
 */

const STRATEGIES = ['hash', 'random', 'sequential'];
/** Default range: below every common kernel's ephemeral range (Linux 32768+, BSD/Windows 49152+). */
const DEFAULT_RANGE = { lo: 20000, hi: 29999 };
/** At most this many ports in one lease. */
const MAX_PORTS_PER_LEASE = 256;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 128;
/** A lease id, as `allocate` makes them: pl_ + lower-case letters and digits. */
const LEASE_ID = /^pl_[a-z0-9]{6,40}$/;
/** A label key in a lease record. */
const LABEL_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** `text` with each control character (newline, tab, ...) replaced by a space. */
function withoutControlChars(text) {
    return text.replace(new RegExp(CONTROL_CHARS.source, 'g'), ' ');
}
function show(value) {
    return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
}
/**
 * Names a port may not have: each becomes an environment variable (exec, the action's env,
 * the container step's output), and these would clobber what the shell, the dynamic loader,
 * Node or the runner rely on. Compared case-insensitively.
 */
const RESERVED_NAMES = [
    'PATH',
    'HOME',
    'SHELL',
    'USER',
    'PWD',
    'TMPDIR',
    'LANG',
    'IFS',
    'CI',
];
const RESERVED_PREFIXES = [
    'GITHUB_',
    'RUNNER_',
    'ACTIONS_',
    'INPUT_',
    'STATE_',
    'NODE_',
    'LD_',
];
/** One environment-variable-shaped name, not a reserved one. */
function checkName(name, label) {
    if (!ENV_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
        throw new errors_UsageError(`${label}: ${show(name)} is not a valid name; use letters, digits and _ , not starting with a digit (like DB_PORT), at most ${MAX_NAME_LENGTH} characters`);
    }
    const upper = name.toUpperCase();
    if (RESERVED_NAMES.includes(upper) || RESERVED_PREFIXES.some((p) => upper.startsWith(p))) {
        throw new errors_UsageError(`${label}: ${show(name)} is reserved (it would overwrite a variable the shell, the runner or later steps rely on: ${RESERVED_NAMES.join(', ')}, ${RESERVED_PREFIXES.map((p) => p + '*').join(', ')}); choose another name, like WEB_PORT`);
    }
    return name;
}
/** A list of port names: each valid, none repeated, at least one. */
function checkNames(names, label) {
    if (names.length === 0) {
        throw new errors_UsageError(`${label}: no port names given; name at least one, like WEB_PORT`);
    }
    if (names.length > MAX_PORTS_PER_LEASE) {
        throw new errors_UsageError(`${label}: ${names.length} names given; at most ${MAX_PORTS_PER_LEASE} ports per lease`);
    }
    const seen = new Set();
    for (const name of names) {
        checkName(name, label);
        if (seen.has(name))
            throw new errors_UsageError(`${label}: ${show(name)} is named twice`);
        seen.add(name);
    }
    return [...names];
}
/** Names from free text: separated by whitespace, commas or newlines (the action's `ports`). */
function parseNameList(text, label) {
    const names = text.split(/[\s,]+/).filter((s) => s.length > 0);
    return checkNames(names, label);
}
/** `--count N`: N ports named PORT_1..PORT_N. */
function parseCount(text, label) {
    if (!/^\d+$/.test(text.trim())) {
        throw new errors_UsageError(`${label}: ${show(text)} is not a whole number; give 1 to ${MAX_PORTS_PER_LEASE}`);
    }
    const n = Number(text.trim());
    if (n < 1 || n > MAX_PORTS_PER_LEASE) {
        throw new errors_UsageError(`${label}: ${n} is out of bounds; give 1 to ${MAX_PORTS_PER_LEASE}`);
    }
    return n;
}
function countNames(n) {
    return Array.from({ length: n }, (_, i) => `PORT_${i + 1}`);
}
/** `LO-HI` (inclusive), both in 1-65535, LO <= HI. A single port `P` means P-P. */
function parseRange(text, label) {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(text);
    const accepted = 'use LO-HI with 1 <= LO <= HI <= 65535, like 20000-29999';
    if (!m)
        throw new errors_UsageError(`${label}: ${show(text)} is not a port range; ${accepted}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi > 65535 || lo > 65535 || hi < 1) {
        throw new errors_UsageError(`${label}: ${show(text)} is outside 1-65535; ${accepted}`);
    }
    if (lo > hi)
        throw new errors_UsageError(`${label}: ${show(text)} is reversed; ${accepted}`);
    return { lo, hi };
}
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNITS = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY };
/** Units from the largest down: in a compound duration each comes once, in this order. */
const UNIT_ORDER = ['d', 'h', 'm', 's', 'ms'];
/**
 * A duration: `90s`, `15m`, `6h`, `2d`, `500ms`, compound `1h30m` (each unit once, largest
 * first), or bare seconds `300`. `allowZero` lets `0` through (for `--wait 0`). Returns
 * milliseconds.
 */
function parseDuration(text, label, opts = {}) {
    const accepted = `use a duration like 90s, 15m, 6h, 2d or 1h30m${opts.allowZero ? ', or 0' : ''}`;
    const t = text.trim();
    let ms;
    if (/^\d+$/.test(t)) {
        ms = Number(t) * 1000;
    }
    else {
        const re = /(\d+)(ms|s|m|h|d)/gy;
        let total = 0;
        let pos = 0;
        let any = false;
        let lastUnit = -1;
        for (let m = re.exec(t); m !== null; m = re.exec(t)) {
            const unit = UNIT_ORDER.indexOf(m[2] ?? '');
            if (unit <= lastUnit) {
                throw new errors_UsageError(`${label}: ${show(text)} is not a duration: give each unit once, largest first (d, h, m, s, ms), like 1h30m`);
            }
            lastUnit = unit;
            total += Number(m[1]) * (UNITS[m[2] ?? ''] ?? Number.NaN);
            pos = re.lastIndex;
            any = true;
        }
        if (!any || pos !== t.length) {
            throw new errors_UsageError(`${label}: ${show(text)} is not a duration; ${accepted}`);
        }
        ms = total;
    }
    if (!Number.isFinite(ms))
        throw new errors_UsageError(`${label}: ${show(text)} is too large`);
    if (ms === 0 && !opts.allowZero) {
        throw new errors_UsageError(`${label}: ${show(text)} is zero; ${accepted}`);
    }
    const max = opts.max ?? 366 * DAY;
    if (ms > max) {
        throw new errors_UsageError(`${label}: ${show(text)} is longer than ${formatDuration(max)}`);
    }
    return ms;
}
function formatDuration(ms) {
    if (ms % DAY === 0)
        return `${ms / DAY}d`;
    if (ms % HOUR === 0)
        return `${ms / HOUR}h`;
    if (ms % MINUTE === 0)
        return `${ms / MINUTE}m`;
    if (ms % SECOND === 0)
        return `${ms / SECOND}s`;
    return `${ms}ms`;
}
function parseStrategy(text, label) {
    const t = text.trim();
    if (STRATEGIES.includes(t))
        return t;
    throw new errors_UsageError(`${label}: ${show(text)} is not a strategy; use ${STRATEGIES.join(', ')}`);
}
/** A process id: a whole number from 1 up. Whether it runs is checked by the caller. */
function parsePid(text, label) {
    const t = text.trim();
    if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 0x3fffffff) {
        throw new errors_UsageError(`${label}: ${show(text)} is not a process id; give a whole number >= 1`);
    }
    return Number(t);
}
/** A lease key: free text, 1-200 printable characters. */
function checkKey(key, label) {
    if (key.length === 0 || key.length > 200 || CONTROL_CHARS.test(key)) {
        throw new errors_UsageError(`${label}: ${show(key)} is not a valid key; use 1-200 printable characters, no newlines`);
    }
    return key;
}
/** A lease id as printed by `allocate` (pl_ + letters/digits). */
function checkLeaseId(id, label) {
    if (!LEASE_ID.test(id)) {
        throw new errors_UsageError(`${label}: ${show(id)} is not a lease id; ids look like pl_k3v9x2m4q8`);
    }
    return id;
}
/** true/false in the forms GitHub's YAML 1.2 core schema accepts. */
function parseBoolean(text, label) {
    const t = text.trim();
    if (['true', 'True', 'TRUE'].includes(t))
        return true;
    if (['false', 'False', 'FALSE'].includes(t))
        return false;
    throw new UsageError(`${label}: ${show(text)} is not a boolean; use true or false`);
}

;// CONCATENATED MODULE: ./src/core/memo.ts
const ID_PREFIX = '{"id":"';
/** The id a canonical record line starts with (a cheap map key; the whole text is compared). */
function lineId(line) {
    if (!line.startsWith(ID_PREFIX))
        return '';
    const end = line.indexOf('"', ID_PREFIX.length);
    return end < 0 ? '' : line.slice(ID_PREFIX.length, end);
}
class RecordMemo {
    /** Lease id -> the exact line validated (or written) last, and its record. */
    known = new Map();
    /** Each record's JSON text, made once per record object (records are never mutated). */
    texts = new WeakMap();
    /** The record `line` was validated into (or written from), if it is exactly that line. */
    get(line) {
        const hit = this.known.get(lineId(line));
        return hit !== undefined && hit.text === line ? hit.lease : undefined;
    }
    /** Remember exactly these lines and records (the last read or write), forgetting the rest. */
    replace(entries) {
        const next = new Map();
        for (const [text, lease] of entries) {
            const id = lineId(text);
            if (id !== '')
                next.set(id, { text, lease });
        }
        this.known = next;
    }
    /** A record's line: its JSON text, made once per record object. */
    textOf(lease) {
        let text = this.texts.get(lease);
        if (text === undefined) {
            text = JSON.stringify(lease);
            this.texts.set(lease, text);
        }
        return text;
    }
}

;// CONCATENATED MODULE: ./src/core/text.ts
/** Small text and value helpers shared by every layer (no I/O). */
/** A plain object (not null, not an array): the first check on any parsed JSON value. */
function isRecord(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** The first non-empty line of a text, trimmed ('' when there is none). */
function firstLine(text) {
    return (text
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '') ?? '');
}
/**
 * `n` random base-36 characters. Names and ids need to be unique, not secret: Math.random
 * (seeded per process from the OS) gives ~5 bits a character, and a lease id that is taken
 * already is drawn again. (node:crypto would cost every command several ms to load.)
 */
function randomSuffix(n) {
    let out = '';
    while (out.length < n)
        out += Math.floor(Math.random() * 36 ** 6)
            .toString(36)
            .padStart(6, '0');
    return out.slice(0, n);
}

;// CONCATENATED MODULE: ./src/core/schema.ts
/**
 * One lease record as the state file holds it: its shape, its id, and its validation.
 *
 * Nothing read from disk is trusted: every record is validated field by field into a fresh
 * object, and every record is frozen (a changed lease is a new record), so a record made or
 * validated once can be kept and handed out again as it is.
 */



/** The state file in the registry directory. */
const STATE_FILE = 'leases.json';
/** The format version this portlease writes; a file stating a higher one is never rewritten. */
const STATE_VERSION = 1;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
function newLeaseId() {
    // 10 base36 characters from 64 random bits.
    return 'pl_' + randomSuffix(10);
}
function isPort(v) {
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}
function isTime(v) {
    return typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));
}
function str(v, max) {
    return typeof v === 'string' && v.length <= max && !CONTROL_CHARS.test(v);
}
/** Validate an owner record into a fresh object: null for none, undefined when invalid. */
function validOwner(v) {
    if (v === null)
        return null;
    if (!isRecord(v))
        return undefined;
    const nullable = (x, max) => x === null || str(x, max);
    const id = (x) => typeof x === 'number' && Number.isInteger(x) && x >= 1;
    /** start, boot, host and pidns, as process and session owners record them. */
    const where = () => nullable(v.start, 32) && nullable(v.boot, 64) && str(v.host, 256) && nullable(v.pidns, 64)
        ? { start: v.start, boot: v.boot, host: v.host, pidns: v.pidns }
        : undefined;
    if (v.kind === 'process') {
        const w = where();
        return id(v.pid) && w !== undefined ? { kind: 'process', pid: v.pid, ...w } : undefined;
    }
    if (v.kind === 'container') {
        if (typeof v.id === 'string' &&
            /^[0-9a-f]{12,64}$/.test(v.id) &&
            str(v.host, 256) &&
            nullable(v.boot, 64)) {
            return { kind: 'container', id: v.id, host: v.host, boot: v.boot };
        }
        return undefined;
    }
    const uid = (x) => x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
    if (v.kind === 'session') {
        const w = where();
        return id(v.sid) && uid(v.uid) && w !== undefined
            ? {
                kind: 'session',
                sid: v.sid,
                start: w.start,
                uid: v.uid,
                boot: w.boot,
                host: w.host,
                pidns: w.pidns,
            }
            : undefined;
    }
    if (v.kind === 'dir') {
        if (str(v.path, 4096) && /^(?:\/|[A-Za-z]:[\\/]|\\\\)/.test(v.path) && str(v.host, 256)) {
            return { kind: 'dir', path: v.path, host: v.host };
        }
        return undefined;
    }
    if (v.kind === 'tree') {
        if (id(v.pid) &&
            nullable(v.start, 32) &&
            nullable(v.boot, 64) &&
            str(v.host, 256) &&
            nullable(v.pidns, 64) &&
            (v.sid === null || id(v.sid)) &&
            uid(v.uid)) {
            return {
                kind: 'tree',
                pid: v.pid,
                start: v.start,
                boot: v.boot,
                host: v.host,
                pidns: v.pidns,
                sid: v.sid,
                uid: v.uid,
            };
        }
    }
    return undefined;
}
/** Validate one record into a fresh object, or return a reason it is rejected. */
function validateLease(v) {
    if (!isRecord(v))
        return 'not an object';
    if (typeof v.id !== 'string' || !LEASE_ID.test(v.id))
        return 'bad id';
    if (!str(v.key, 200) || v.key.length === 0)
        return 'bad key';
    if (!isRecord(v.ports))
        return 'bad ports';
    const entries = Object.entries(v.ports);
    if (entries.length === 0 || entries.length > 256)
        return 'bad ports';
    const seen = new Set();
    for (const [name, port] of entries) {
        if (!NAME.test(name) || !isPort(port) || seen.has(port))
            return `bad port ${name}`;
        seen.add(port);
    }
    if (!isRecord(v.range) || !isPort(v.range.lo) || !isPort(v.range.hi) || v.range.lo > v.range.hi) {
        return 'bad range';
    }
    const owner = validOwner(v.owner);
    if (owner === undefined)
        return 'bad owner';
    if (!isTime(v.created))
        return 'bad created';
    if (v.expires !== null && !isTime(v.expires))
        return 'bad expires';
    if (owner === null && v.expires === null)
        return 'neither owner nor expiry';
    const labels = [];
    if (!isRecord(v.labels))
        return 'bad labels';
    const labelEntries = Object.entries(v.labels);
    if (labelEntries.length > 32)
        return 'too many labels';
    for (const [k, val] of labelEntries) {
        if (!LABEL_KEY.test(k) || !str(val, 512))
            return `bad label ${k.slice(0, 40)}`;
        labels.push([k, val]);
    }
    return freezeLease({
        id: v.id,
        key: v.key,
        // Object.fromEntries defines own properties: a name like __proto__ stays a plain key.
        ports: Object.fromEntries(entries),
        range: { lo: v.range.lo, hi: v.range.hi },
        contiguous: v.contiguous === true,
        owner,
        created: v.created,
        expires: v.expires,
        labels: Object.fromEntries(labels),
    });
}
/**
 * A record about to be written, frozen and checked to read back valid: what is written must
 * pass the next reader's validation, or it would be set aside as damaged.
 */
function writableLease(lease) {
    const frozen = freezeLease(lease);
    const check = validateLease(JSON.parse(JSON.stringify(frozen)));
    if (typeof check === 'string')
        throw new errors_UsageError(`lease: ${check}`);
    return frozen;
}
/**
 * Records are frozen: the registry caches each one's JSON text and the last state it saw,
 * so a record must never change after it is made (a changed lease is a new record).
 */
function freezeLease(lease) {
    Object.freeze(lease.ports);
    Object.freeze(lease.range);
    if (lease.owner !== null)
        Object.freeze(lease.owner);
    Object.freeze(lease.labels);
    return Object.freeze(lease);
}
/** A record's JSON with every object's keys sorted: equal for equal records, whoever wrote them. */
function canonical(v) {
    return JSON.stringify(v, (_k, x) => typeof x === 'object' && x !== null && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : x);
}

;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
;// CONCATENATED MODULE: ./src/core/platform.ts

/** What the platform says of a pid that runs no more (owner.ts maps it to its GONE). */
const NO_PROCESS = Symbol('no process');
function runCommand(file, args, opts) {
    // Loaded only here, off Linux: node:child_process costs every command time at start-up.
    // (Node before 20.16 has no getBuiltinModule: nothing can be told there, as before.)
    if (typeof process.getBuiltinModule !== 'function')
        return { status: null, stdout: '' };
    const { spawnSync } = process.getBuiltinModule('node:child_process');
    const options = {
        env: opts.env,
        timeout: opts.timeoutMs,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        windowsHide: true,
        maxBuffer: 4 * 1024 * 1024,
    };
    const r = spawnSync(file, [...args], options);
    if (r.error !== undefined)
        return { status: null, stdout: '' };
    return { status: r.status, stdout: typeof r.stdout === 'string' ? r.stdout : '' };
}
/** Does `pid` exist? kill(pid, 0): EPERM means it does (another user's). */
function pidExists(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (err) {
        return errnoCode(err) === 'EPERM';
    }
}
const realHost = {
    platform: process.platform,
    run: runCommand,
    exists: pidExists,
    env: process.env,
    pid: process.pid,
};
let host = realHost;
let bootCache;
let selfStart;
/** The host owner.ts asks (tests swap in a platform, a command runner and pid existence). */
function currentHost() {
    return host;
}
/** Is this a host whose identity comes from here rather than /proc? */
function offLinux() {
    return host.platform === 'darwin' || host.platform === 'win32';
}
/** Replace parts of the host (tests); returns a function that restores the real one. */
function useHost(replace) {
    const before = host;
    host = { ...realHost, ...replace };
    bootCache = undefined;
    selfStart = undefined;
    return () => {
        host = before;
        bootCache = undefined;
        selfStart = undefined;
    };
}
// ---------------------------------------------------------------- macOS
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/**
 * `ps -o lstart=` in the C locale and UTC ("Mon Nov 27 17:58:03 2023", the day padded with
 * a space) -> Unix seconds as a string, or null when it is anything else.
 */
function parseLstart(text) {
    const m = /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text.trim());
    if (!m)
        return null;
    const [, wd = '', mon = '', d, hh, mm, ss, y] = m;
    const month = MONTHS.indexOf(mon);
    if (month < 0 || !DAYS.includes(wd))
        return null;
    const [day, hour, min, sec, year] = [d, hh, mm, ss, y].map(Number);
    if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 || year < 1970)
        return null;
    const ms = Date.UTC(year, month, day, hour, min, sec);
    const back = new Date(ms);
    // Reject dates that roll over (Feb 30) and a weekday that does not match the date.
    if (back.getUTCDate() !== day || DAYS[back.getUTCDay()] !== wd)
        return null;
    return String(ms / 1000);
}
/** `ps -o stat= -o lstart= -p PID` -> start seconds, NO_PROCESS for a zombie, else null. */
function parsePs(text) {
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(text.split('\n').find((l) => l.trim() !== '') ?? '');
    if (!m)
        return null;
    if ((m[1] ?? '').startsWith('Z'))
        return NO_PROCESS; // exited; holds nothing, waits to be reaped
    return parseLstart(m[2] ?? '');
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `sysctl -n kern.bootsessionuuid` -> the lower-case UUID, or null. */
function parseBootSession(text) {
    const t = text.trim();
    return UUID.test(t) ? t.toLowerCase() : null;
}
const DARWIN_ENV = { LC_ALL: 'C', TZ: 'UTC0', PATH: '/usr/bin:/bin:/usr/sbin:/sbin' };
function darwinStart(pid) {
    const r = host.run('/bin/ps', ['-o', 'stat=', '-o', 'lstart=', '-p', String(pid)], {
        env: DARWIN_ENV,
        timeoutMs: 5000,
    });
    return r.status === 0 ? parsePs(r.stdout) : null;
}
function darwinBoot() {
    const r = host.run('/usr/sbin/sysctl', ['-n', 'kern.bootsessionuuid'], {
        env: DARWIN_ENV,
        timeoutMs: 5000,
    });
    return r.status === 0 ? parseBootSession(r.stdout) : null;
}
// ---------------------------------------------------------------- Windows
/**
 * A CIM datetime, "20231127175803.512345+060" (local time, then the offset from UTC in
 * minutes), -> UTC microseconds since 1970 as a string, or null for anything else
 * (including the wildcard form with asterisks).
 */
function parseCimDatetime(text) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(text.trim());
    if (!m)
        return null;
    const [year, month, day, hour, min, sec, micro] = m.slice(1, 8).map(Number);
    const offset = Number(m[9]) * (m[8] === '-' ? -1 : 1);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        return null;
    }
    if (year < 1970 || Math.abs(offset) > 14 * 60)
        return null;
    const local = Date.UTC(year, month - 1, day, hour, min, sec);
    if (new Date(local).getUTCDate() !== day)
        return null;
    const utcMs = local - offset * 60_000;
    return String(utcMs * 1000 + micro);
}
/**
 * Lines "PID CIMDATETIME" (what the PowerShell query prints) -> pid -> start. Lines that do
 * not parse are left out (their pids are then unknown, never gone).
 */
function parseWinProcesses(text) {
    const out = new Map();
    for (const line of text.split(/\r?\n/)) {
        const m = /^\s*(\d{1,10}) (\S+)\s*$/.exec(line);
        if (!m)
            continue;
        const pid = Number(m[1]);
        const start = parseCimDatetime(m[2] ?? '');
        if (start !== null && pid > 0)
            out.set(pid, start);
    }
    return out;
}
/** The PowerShell program for one pid, or for every process. */
function winQuery(pid) {
    const where = pid === null ? '' : ` WHERE ProcessId=${pid}`;
    return (`$ErrorActionPreference='Stop';` +
        `([wmisearcher]'SELECT ProcessId,CreationDate FROM Win32_Process${where}').Get()` +
        `|ForEach-Object{[string]$_.ProcessId+' '+$_.CreationDate}`);
}
function powershell(script) {
    const root = host.env.SystemRoot ?? host.env.windir ?? 'C:\\Windows';
    const exe = `${root}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`;
    // -EncodedCommand (UTF-16LE, base64): no quoting rules between Node, Windows and PowerShell.
    const encoded = Buffer.from(script, 'utf16le').toString('base64');
    return host.run(exe, ['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', encoded], {
        env: host.env,
        timeoutMs: 15_000,
    });
}
/** Caches (one registry operation each) that already hold a snapshot of every process. */
const snapshotted = new WeakSet();
function winStart(pid, cache) {
    let start;
    if (cache !== undefined) {
        if (!snapshotted.has(cache)) {
            // One query for the whole operation: every pid the operation will ask about.
            snapshotted.add(cache);
            const r = powershell(winQuery(null));
            if (r.status === 0)
                for (const [p, s] of parseWinProcesses(r.stdout))
                    cache.set(p, s);
        }
        const hit = cache.get(pid);
        start = typeof hit === 'string' ? hit : undefined;
    }
    else {
        const r = powershell(winQuery(pid));
        if (r.status === 0)
            start = parseWinProcesses(r.stdout).get(pid);
    }
    return start ?? null;
}
// ---------------------------------------------------------------- dispatch
/**
 * The start time of `pid` on macOS or Windows: a string, NO_PROCESS when the kernel says
 * there is no such process (or it is a zombie), or null when it cannot be told. `cache` is one registry operation's
 * (see winStart).
 */
function platformStartTime(pid, cache) {
    if (!Number.isSafeInteger(pid) || pid < 1)
        return null;
    if (pid === host.pid && selfStart !== undefined)
        return selfStart;
    let start = null;
    if (host.platform === 'darwin')
        start = darwinStart(pid);
    else if (host.platform === 'win32')
        start = winStart(pid, cache);
    if (start === null)
        return host.exists(pid) ? null : NO_PROCESS;
    if (pid === host.pid && start !== NO_PROCESS)
        selfStart = start; // this process's never changes
    return start;
}
/** The boot identity on macOS (kern.bootsessionuuid); null on Windows (see the top). */
function platformBootId() {
    bootCache ??= { value: host.platform === 'darwin' ? darwinBoot() : null };
    return bootCache.value;
}
// ---------------------------------------------------------------- the registry directory
/** BUILTIN\Users, by SID: the group's name is translated on non-English Windows. */
const WINDOWS_USERS_SID = '*S-1-5-32-545';
/** The icacls arguments that let every local account modify what is under `dir`. */
function icaclsGrantArgs(dir) {
    return [dir, '/grant', `${WINDOWS_USERS_SID}:(OI)(CI)M`, '/Q'];
}
/**
 * After creating the registry directory: on Windows, grant Users modify rights, inherited
 * by everything created below it. A directory under %ProgramData% otherwise stays writable
 * by its creator only, and a second runner account could not replace the state file.
 * Returns false when that failed (the next write then reports a permission error).
 */
function shareDirectory(dir) {
    if (host.platform !== 'win32')
        return true;
    const root = host.env.SystemRoot ?? host.env.windir ?? 'C:\\Windows';
    const r = host.run(`${root}\\System32\\icacls.exe`, icaclsGrantArgs(dir), {
        env: host.env,
        timeoutMs: 15_000,
    });
    return r.status === 0;
}
/** How to fix a registry directory this user cannot write. */
function permissionFix(dir) {
    return host.platform === 'win32'
        ? `Let every runner account modify it: icacls "${dir}" /grant ${WINDOWS_USERS_SID}:(OI)(CI)M, or use --registry`
        : 'Make it mode 0777 (no sticky bit) or use --registry';
}

;// CONCATENATED MODULE: ./src/core/dirs.ts
/**
 * The registry directory: where it is by default, making it (open to every user) and checking
 * it, never through a symlink, that it stays the very directory validated first, and the
 * one-line errors that name it.
 */




/** The host-wide default: one path for every user (never $TMPDIR, which is per user). */
function defaultRegistryDir(env = process.env) {
    const fromEnv = env.PORTLEASE_REGISTRY;
    if (fromEnv !== undefined && fromEnv.trim() !== '')
        return fromEnv;
    if (process.platform === 'win32') {
        return (0,external_node_path_namespaceObject.join)(env.ProgramData ?? 'C:\\ProgramData', 'portlease');
    }
    return '/tmp/portlease';
}
/**
 * `mkdir -p`, one component at a time from the deepest existing ancestor. Not Node's
 * `recursive: true`, which retries forever where mkdir says ENOENT under a parent that
 * exists (any path under /proc): here that mkdir's error is the answer.
 */
function makeDirs(dir) {
    const missing = [];
    for (let d = (0,external_node_path_namespaceObject.resolve)(dir);;) {
        try {
            (0,external_node_fs_namespaceObject.lstatSync)(d);
            break;
        }
        catch (err) {
            if (errnoCode(err) !== 'ENOENT')
                throw err;
        }
        missing.push(d);
        const parent = (0,external_node_path_namespaceObject.dirname)(d);
        if (parent === d)
            break;
        d = parent;
    }
    for (const d of missing.reverse()) {
        try {
            (0,external_node_fs_namespaceObject.mkdirSync)(d, { mode: 0o777 });
        }
        catch (err) {
            if (errnoCode(err) !== 'EEXIST')
                throw err;
        }
    }
}
/** Make (or check) the registry directory: never through a symlink, open to every user. */
function ensureRegistryDir(dir) {
    try {
        (0,external_node_fs_namespaceObject.lstatSync)(dir);
    }
    catch (err) {
        if (errnoCode(err) !== 'ENOENT')
            throw registryError(dir, err);
        try {
            makeDirs(dir);
            // Not sticky, so any user may rename over what another wrote; umask does not apply.
            (0,external_node_fs_namespaceObject.chmodSync)(dir, 0o777);
            shareDirectory(dir); // Windows: the same for every account, through an inherited ACL
        }
        catch (e) {
            if (errnoCode(e) !== 'EEXIST')
                throw registryError(dir, e);
        }
    }
    checkRegistryPath(dir);
}
/** Check a registry path without creating anything (for validation before any write). */
function checkRegistryPath(dir) {
    let st;
    try {
        st = (0,external_node_fs_namespaceObject.lstatSync)(dir);
    }
    catch (err) {
        if (errnoCode(err) === 'ENOENT')
            return;
        throw registryError(dir, err);
    }
    if (st.isSymbolicLink()) {
        throw new errors_UsageError(`registry: ${dir} is a symlink; portlease never follows one there. Use a real directory`);
    }
    if (!st.isDirectory()) {
        throw new errors_UsageError(`registry: ${dir} exists and is not a directory; name a directory`);
    }
}
function registryError(dir, err) {
    const code = errnoCode(err);
    const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
    switch (code) {
        case 'EACCES':
        case 'EPERM':
            return new RuntimeError(`registry ${dir} is not writable by this user${uid}: ${code}. ${permissionFix(dir)}`);
        case 'ENOSPC':
            return new RuntimeError(`registry ${dir}: no space left on device (ENOSPC); nothing was changed`);
        case 'EROFS':
            return new RuntimeError(`registry ${dir} is on a read-only file system (EROFS)`);
        case 'EDQUOT':
            return new RuntimeError(`registry ${dir}: disk quota exceeded (EDQUOT); nothing was changed`);
        default:
            return new RuntimeError(`registry ${dir}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
}
/** Make (or check) the registry directory, and say which directory it is. */
function openRegistryDir(dir) {
    ensureRegistryDir(dir);
    const st = (0,external_node_fs_namespaceObject.lstatSync)(dir);
    return { dev: st.dev, ino: st.ino };
}
/**
 * The registry path must still be the directory validated at the start: not a symlink put
 * in its place (never followed), not another directory.
 */
function checkSameDir(dir, id) {
    let st;
    try {
        st = (0,external_node_fs_namespaceObject.lstatSync)(dir);
    }
    catch (err) {
        if (errnoCode(err) === 'ENOENT') {
            throw new RuntimeError(`registry: ${dir} was removed while portlease used it`);
        }
        throw registryError(dir, err);
    }
    if (st.isSymbolicLink()) {
        throw new RuntimeError(`registry: ${dir} was replaced by a symlink while portlease used it; portlease never follows one there. Nothing was written`);
    }
    if (!st.isDirectory() || st.dev !== id.dev || st.ino !== id.ino) {
        throw new RuntimeError(`registry: ${dir} was replaced by another ${st.isDirectory() ? 'directory' : 'file'} while portlease used it; nothing was written`);
    }
}

;// CONCATENATED MODULE: ./src/core/fsretry.ts
/**
 * rename and unlink that ride out Windows' transient sharing errors.
 *
 * On Windows a rename over a file, or an unlink, fails with EPERM, EBUSY or EACCES while
 * another process has the file open without FILE_SHARE_DELETE: antivirus scanners, search
 * indexers and backup agents do that for a moment after every write. graceful-fs retries
 * for the same reason. Here the retry is synchronous (the registry writes under its lock),
 * with a backoff growing by 10 ms up to 100 ms a try and a total budget, after which the
 * last error is thrown as it was. Elsewhere these errors are final and are thrown at once.
 */



const RETRY_CODES = new Set(['EPERM', 'EBUSY', 'EACCES']);
/** Longest time spent retrying one call. */
const RETRY_BUDGET_MS = 3000;
const cell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms) {
    Atomics.wait(cell, 0, 0, ms);
}
/** Run `op`; on win32 retry it while it fails with a sharing error, within the budget. */
function withRetry(op, opts = {}) {
    const platform = opts.platform ?? currentHost().platform;
    if (platform !== 'win32')
        return op();
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? sleepSync;
    const budget = opts.budgetMs ?? RETRY_BUDGET_MS;
    const start = now();
    let backoff = 0;
    for (;;) {
        try {
            return op();
        }
        catch (err) {
            const code = errnoCode(err);
            if (code === undefined || !RETRY_CODES.has(code))
                throw err;
            if (now() - start + backoff > budget)
                throw err;
            if (backoff > 0)
                sleep(backoff);
            if (backoff < 100)
                backoff += 10;
        }
    }
}
function renameRetry(from, to, opts) {
    withRetry(() => {
        (0,external_node_fs_namespaceObject.renameSync)(from, to);
    }, opts);
}
function unlinkRetry(path, opts) {
    withRetry(() => {
        (0,external_node_fs_namespaceObject.unlinkSync)(path);
    }, opts);
}

;// CONCATENATED MODULE: ./src/core/fsio.ts
/**
 * Files written so that a crash at any instruction leaves the old file or the new one, whole:
 * a temp file beside the target, fsynced, renamed over it; and the sweep of temps a killed
 * writer left. No path is followed through a symlink (O_NOFOLLOW, lstat).
 */




/** writeAtomic's temp file for `path` is `path` + this + pid.random. */
const TEMP = '.tmp.';
/**
 * Write `content` to `path` atomically: temp file, rename. A crash of the process at any
 * instruction (SIGKILL, OOM) leaves the old file or the new one, whole: the rename is
 * atomic, and the page cache outlives the process.
 *
 * `durable` adds an fsync of the temp file before the rename, so a crash of the machine
 * (power loss, kernel panic) leaves the old file or the new one as well, never a torn or
 * empty one. It costs about 2 ms a write on this host's ext4 (the journal commit it forces)
 * and is asked for only where something written must outlive a reboot
 * (docs/adr/0004-durability.md). The directory is never fsynced: that would only make the
 * rename itself survive a power loss, and an older whole file is as good for what is kept.
 */
function writeAtomic(path, content, mode = 0o666, durable = true) {
    const temp = `${path}${TEMP}${process.pid}.${randomSuffix(8)}`;
    let fd;
    try {
        fd = (0,external_node_fs_namespaceObject.openSync)(temp, external_node_fs_namespaceObject.constants.O_WRONLY | external_node_fs_namespaceObject.constants.O_CREAT | external_node_fs_namespaceObject.constants.O_EXCL | external_node_fs_namespaceObject.constants.O_NOFOLLOW, 0o600);
        const buf = Buffer.from(content, 'utf8');
        let off = 0;
        while (off < buf.length)
            off += (0,external_node_fs_namespaceObject.writeSync)(fd, buf, off, buf.length - off);
        if (durable)
            (0,external_node_fs_namespaceObject.fsyncSync)(fd);
        (0,external_node_fs_namespaceObject.closeSync)(fd);
        fd = undefined;
        (0,external_node_fs_namespaceObject.chmodSync)(temp, mode); // 0666: readable and replaceable by every user; umask does not apply
        renameRetry(temp, path); // Windows: a scanner holding the old file open fails it briefly
    }
    catch (err) {
        if (fd !== undefined) {
            try {
                (0,external_node_fs_namespaceObject.closeSync)(fd);
            }
            catch {
                // closing a broken fd: nothing more to do
            }
        }
        try {
            unlinkRetry(temp);
        }
        catch {
            // never created or already renamed
        }
        throw err;
    }
}
/** What a file that is not a regular file is, in words. */
function fileKind(st) {
    if (st.isFIFO())
        return 'a FIFO';
    if (st.isDirectory())
        return 'a directory';
    if (st.isSocket())
        return 'a socket';
    if (st.isSymbolicLink())
        return 'a symlink';
    if (st.isCharacterDevice() || st.isBlockDevice())
        return 'a device';
    return 'not a regular file';
}
/**
 * Remove the temp files of `file` in `dir` that writers killed between open and rename left
 * behind (older than `olderThanMs`). Returns how many it removed.
 */
function sweepTemps(dir, file, olderThanMs = 60_000) {
    let removed = 0;
    const now = Date.now();
    let names;
    try {
        names = (0,external_node_fs_namespaceObject.readdirSync)(dir);
    }
    catch {
        return 0;
    }
    for (const n of names) {
        if (!n.startsWith(`${file}${TEMP}`))
            continue;
        try {
            const st = (0,external_node_fs_namespaceObject.lstatSync)((0,external_node_path_namespaceObject.join)(dir, n));
            if (now - st.mtimeMs > olderThanMs) {
                (0,external_node_fs_namespaceObject.unlinkSync)((0,external_node_path_namespaceObject.join)(dir, n));
                removed++;
            }
        }
        catch {
            // raced with another sweeper
        }
    }
    return removed;
}

;// CONCATENATED MODULE: ./src/core/layout.ts


const HEAD = `{"version":${STATE_VERSION},"leases":[\n`;
const TAIL = '\n]}\n';
const EMPTY = `{"version":${STATE_VERSION},"leases":[]}\n`;
/**
 * The state file's text for `leases`. With a memo, each record's text is made once per
 * record object, and the memo then knows exactly the lines written.
 */
function serialize(leases, memo) {
    if (leases.length === 0)
        return EMPTY;
    const lines = leases.map((l) => [memo ? memo.textOf(l) : JSON.stringify(l), l]);
    memo?.replace(lines);
    return HEAD + lines.map(([text]) => text).join(',\n') + TAIL;
}
/** The record lines of a file in serialize's layout, or null for any other layout. */
function recordLines(text) {
    if (text === EMPTY)
        return [];
    if (!text.startsWith(HEAD) || !text.endsWith(TAIL) || text.length < HEAD.length + TAIL.length) {
        return null;
    }
    const body = text.slice(HEAD.length, text.length - TAIL.length);
    return body === '' ? [] : body.split(',\n');
}
const HEAD_LINE = /^\{\s*"version"\s*:\s*(-?\d+)\s*,\s*"leases"\s*:\s*\[\s*(\]\s*\}\s*)?$/;
const VERSION_LINE = /^"version"\s*:\s*(-?\d+)\s*,?$/;
const LEASES_LINE = /^"leases"\s*:\s*\[\s*(\]\s*,?)?$/;
const TAIL_LINE = /^(\]\s*\}|\]\s*,?|\})$/;
/**
 * Parse a state file that is not in serialize's exact layout, line by line, so one damaged
 * line costs only itself: a BOM, a NUL, a cut last line, garbage appended, CRLF endings,
 * and pretty-printed records (a record over several lines, from `{` to the `}` at the same
 * indentation) all leave every intact record readable. Linear in the size of the file.
 */
function salvage(text) {
    const lines = text.split('\n');
    const candidates = [];
    const damage = [];
    let version = null;
    let recognised = false;
    const trimmed = (i) => {
        let t = lines[i] ?? '';
        if (i === 0 && t.startsWith('\uFEFF'))
            t = t.slice(1);
        return t.trim();
    };
    for (let i = 0; i < lines.length; i++) {
        const s = trimmed(i);
        if (s === '')
            continue;
        const head = HEAD_LINE.exec(s);
        if (head) {
            version ??= Number(head[1]);
            recognised = true;
            continue;
        }
        const ver = VERSION_LINE.exec(s);
        if (ver) {
            version ??= Number(ver[1]);
            recognised = true;
            continue;
        }
        if (LEASES_LINE.test(s) || TAIL_LINE.test(s))
            continue;
        const body = s.endsWith(',') ? s.slice(0, -1).trimEnd() : s;
        if (body === '{') {
            // A pretty-printed document's own `{`, or a record over several lines.
            let next = i + 1;
            while (next < lines.length && trimmed(next) === '')
                next++;
            if (VERSION_LINE.test(trimmed(next)))
                continue;
            const raw = lines[i] ?? '';
            const indent = raw.length - raw.trimStart().length;
            let end = -1;
            for (let j = i + 1; j < lines.length; j++) {
                const lj = lines[j] ?? '';
                const tj = lj.trim();
                const ij = lj.length - lj.trimStart().length;
                if (ij === indent && (tj === '}' || tj === '},')) {
                    end = j;
                    break;
                }
                if (ij <= indent && tj !== '')
                    break; // the record ended without its `}`
            }
            if (end < 0) {
                damage.push({ line: i + 1, reason: 'a record cut short', text: raw });
                continue;
            }
            const block = lines
                .slice(i, end + 1)
                .join('\n')
                .trim()
                .replace(/,$/, '');
            try {
                candidates.push({ raw: JSON.parse(block), line: i + 1, text: null });
                recognised = true;
            }
            catch {
                damage.push({ line: i + 1, reason: 'not a record (does not parse)', text: block });
            }
            i = end;
            continue;
        }
        if (!body.startsWith('{')) {
            damage.push({ line: i + 1, reason: 'not a record', text: lines[i] ?? '' });
            continue;
        }
        try {
            candidates.push({ raw: JSON.parse(body), line: i + 1, text: body });
            recognised = true;
        }
        catch {
            damage.push({ line: i + 1, reason: 'not a record (does not parse)', text: lines[i] ?? '' });
        }
    }
    return { candidates, damage, version, recognised };
}
/**
 * The candidate records and the damage of a state file's text. A one-line candidate in
 * serialize's own layout carries only its text (raw undefined): the reader parses it unless
 * its memo knows that very line.
 */
function parse(text) {
    // Fast path: serialize's own layout, one record per line.
    const lines = recordLines(text);
    if (lines !== null) {
        return {
            candidates: lines.map((line, i) => ({ raw: undefined, line: i + 2, text: line })),
            damage: [],
            version: STATE_VERSION,
            recognised: true,
        };
    }
    // A whole JSON document in another layout (an older portlease wrote one line; a person
    // may have pretty-printed it).
    let doc;
    try {
        doc = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
    }
    catch {
        doc = undefined;
    }
    if (isRecord(doc) && Array.isArray(doc.leases)) {
        return {
            candidates: doc.leases.map((raw) => ({ raw, line: 0, text: null })),
            damage: [],
            version: typeof doc.version === 'number' ? doc.version : null,
            recognised: true,
        };
    }
    return salvage(text);
}

;// CONCATENATED MODULE: ./src/core/quarantine.ts
/**
 * What a read of the state file rejects (docs/adr/0002-store-salvage.md): the damage of one
 * read is kept in ONE bounded `quarantine/` file (mode 0600) for a person to inspect, and
 * named in a bounded number of warnings; a state file that is not a regular file is moved
 * aside under the lock. Read-only commands only warn.
 */






/** At most this many files are kept in quarantine/. */
const MAX_QUARANTINE = 200;
/** At most this many warnings name a damaged line; the rest are counted in one more line. */
const MAX_DAMAGE_WARNINGS = 3;
/** A quarantine file holds at most this much of the damage (each piece cut to 4 KiB). */
const MAX_QUARANTINE_BYTES = 256 * 1024;
const MAX_PIECE = 4096;
/**
 * Keep a copy of what was rejected in `<registry>/quarantine/` (bounded, mode 0600) and
 * return its path, or null when it could not be kept; never throws.
 */
function keepInQuarantine(dir, what, content) {
    const qdir = (0,external_node_path_namespaceObject.join)(dir, 'quarantine');
    try {
        try {
            (0,external_node_fs_namespaceObject.mkdirSync)(qdir, { mode: 0o777 });
            (0,external_node_fs_namespaceObject.chmodSync)(qdir, 0o777);
        }
        catch (err) {
            if (errnoCode(err) !== 'EEXIST')
                throw err;
        }
        if (!(0,external_node_fs_namespaceObject.lstatSync)(qdir).isDirectory())
            return null;
        if ((0,external_node_fs_namespaceObject.readdirSync)(qdir).length >= MAX_QUARANTINE)
            return null;
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${what}-${randomSuffix(6)}.json`;
        const path = (0,external_node_path_namespaceObject.join)(qdir, name);
        // Only its writer may read it: it may hold what another user wrote, and a copy must
        // never be more readable than what it copies.
        writeAtomic(path, content, 0o600);
        return path;
    }
    catch {
        return null;
    }
}
/**
 * A state file that cannot be read as one (a directory, FIFO, socket, symlink, or too
 * large): under the lock it is renamed aside so the registry can go on; read-only, ignored.
 * Either way the caller goes on with an empty registry.
 */
function moveAside(dir, what, opts) {
    const path = (0,external_node_path_namespaceObject.join)(dir, STATE_FILE);
    if (!opts.quarantine) {
        opts.warn?.(`registry: ${path} is ${what}, not a registry file; ignoring it (the next allocate, release or gc moves it aside)`);
        return;
    }
    const aside = `${STATE_FILE}.rejected-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomSuffix(4)}`;
    try {
        (0,external_node_fs_namespaceObject.renameSync)(path, (0,external_node_path_namespaceObject.join)(dir, aside)); // rename never follows a symlink: the link itself moves
    }
    catch (err) {
        throw new RuntimeError(`registry: ${path} is ${what}, not a registry file, and cannot be moved aside (${errnoCode(err) ?? describeError(err)}); remove it`);
    }
    opts.warn?.(`registry: ${path} was ${what}, not a registry file; moved it aside as ${aside} and went on with an empty registry`);
}
/** Warn about damage (a bounded number of lines) and keep it in one quarantine file. */
function reportDamage(dir, text, damage, recognised, intact, links, opts) {
    const path = (0,external_node_path_namespaceObject.join)(dir, STATE_FILE);
    let note = '';
    if (opts.quarantine) {
        if (links > 1) {
            // A hard link may be another file entirely (a secret linked in here): never copy it.
            note = `; not copied to quarantine (the file has ${links} hard links)`;
        }
        else {
            const pieces = [];
            let size = 0;
            for (const d of damage) {
                if (size >= MAX_QUARANTINE_BYTES)
                    break;
                const piece = d.text.length > MAX_PIECE ? d.text.slice(0, MAX_PIECE) : d.text;
                size += piece.length + d.reason.length + 32;
                pieces.push({ line: d.line, reason: d.reason, text: piece });
            }
            const kept = keepInQuarantine(dir, 'state', JSON.stringify({
                file: path,
                read: new Date().toISOString(),
                bytes: text.length,
                damaged: pieces,
                more: damage.length - pieces.length,
            }) + '\n');
            if (kept !== null)
                note = `; the damage is kept in ${kept}`;
        }
    }
    if (!recognised && intact === 0) {
        opts.warn?.(`registry: ${path} does not parse as a portlease registry; ignoring it${note}`);
        return;
    }
    for (const d of damage.slice(0, MAX_DAMAGE_WARNINGS)) {
        opts.warn?.(`registry: ${path}${d.line > 0 ? ` line ${d.line}` : ''}: ${d.reason}; skipped it`);
    }
    const more = damage.length - MAX_DAMAGE_WARNINGS;
    opts.warn?.(`registry: ${path}: ${more > 0 ? `${more} more damaged line${more === 1 ? '' : 's'} skipped; ` : ''}kept the ${intact} intact record${intact === 1 ? '' : 's'}${note}`);
}

;// CONCATENATED MODULE: ./src/core/store.ts
/**
 * The state file on disk: `leases.json` in the registry directory, replaced as a whole under
 * the lock (fsio.ts: temp file, fsync, rename), so a crash at any instruction leaves the old
 * file or the new one, never a torn one.
 *
 * Reading trusts nothing: every record is validated field by field (schema.ts); a damaged
 * file loses only what is damaged (layout.ts salvages it line by line, quarantine.ts keeps
 * the damage aside); a state file that is not a regular file is moved aside under the lock.
 * No path is followed through a symlink (O_NOFOLLOW, lstat), and no open waits on a FIFO
 * (O_NONBLOCK). A caller's RecordMemo (memo.ts) spares validating lines it has seen.
 */








/** A state file larger than this is not read (a hostile or broken file must not exhaust memory). */
const MAX_STATE_BYTES = 128 * 1024 * 1024;
/**
 * Read and validate the state. Every intact record is kept; damaged lines and invalid
 * records are skipped (at most a few warnings a read) and, with `quarantine` (under the
 * lock), kept together in ONE quarantine file; the caller's next write drops them.
 *
 * Conflicts between valid records (one port or key claimed twice) are not resolved here:
 * which one wins depends on whose owner is alive, which the registry decides. Only an id
 * seen before is dropped (a duplicated line).
 */
function readState(dir, opts) {
    const path = (0,external_node_path_namespaceObject.join)(dir, STATE_FILE);
    const file = readStateFile(dir, path, opts);
    if ('leases' in file)
        return file;
    const { text, links } = file;
    const parsed = parse(text);
    const newer = parsed.version !== null && parsed.version > STATE_VERSION ? parsed.version : undefined;
    const damage = parsed.damage;
    if (parsed.version !== null && !(parsed.version >= 1)) {
        damage.push({ line: 1, reason: `unknown format version ${parsed.version}`, text: '' });
    }
    const leases = validateCandidates(parsed.candidates, damage, opts.memo);
    if (newer !== undefined) {
        opts.warn?.(`registry: ${path} is format version ${newer}, written by a newer portlease (this one reads version ${STATE_VERSION}); showing the records it can read, changing nothing`);
        return { leases, rejected: damage.length, newer };
    }
    if (damage.length > 0) {
        reportDamage(dir, text, damage, parsed.recognised, leases.length, links, opts);
    }
    return { leases, rejected: damage.length };
}
/**
 * The state file's text and link count, or the result of a read that ends here: no file
 * (no leases), or one that is no regular file or too large (moved aside, one rejection).
 */
function readStateFile(dir, path, opts) {
    const empty = (what) => {
        moveAside(dir, what, opts);
        return { leases: [], rejected: 1 };
    };
    try {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what it is.
        const fd = (0,external_node_fs_namespaceObject.openSync)(path, external_node_fs_namespaceObject.constants.O_RDONLY | external_node_fs_namespaceObject.constants.O_NOFOLLOW | external_node_fs_namespaceObject.constants.O_NONBLOCK);
        try {
            const st = (0,external_node_fs_namespaceObject.fstatSync)(fd);
            if (!st.isFile())
                return empty(fileKind(st));
            if (st.size > MAX_STATE_BYTES)
                return empty('larger than 128 MiB');
            return { links: st.nlink, text: (0,external_node_fs_namespaceObject.readFileSync)(fd, 'utf8') };
        }
        finally {
            (0,external_node_fs_namespaceObject.closeSync)(fd);
        }
    }
    catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT')
            return { leases: [], rejected: 0 };
        if (code === 'ELOOP')
            return empty('a symlink');
        if (code === 'ENXIO')
            return empty('a socket');
        if (err instanceof PortleaseError)
            throw err;
        throw registryError(dir, err);
    }
}
/**
 * The valid records among `candidates`, each id once; every other one is added to `damage`.
 * A memo answers for lines it knows, and then knows exactly the lines validated here.
 */
function validateCandidates(candidates, damage, memo) {
    const leases = [];
    const ids = new Set();
    const validated = [];
    for (const c of candidates) {
        let v = recordOf(c, memo);
        if (typeof v !== 'string' && ids.has(v.id))
            v = 'an earlier record has the same id';
        if (typeof v === 'string') {
            damage.push({ line: c.line, reason: `bad record: ${v}`, text: shownText(c) });
            continue;
        }
        ids.add(v.id);
        leases.push(v);
        // The line maps to what validating it gave; when written, a record is written in its
        // own canonical form (RecordMemo.textOf), not as the line it came from.
        if (c.text !== null)
            validated.push([c.text, v]);
    }
    memo?.replace(validated);
    return leases;
}
/** One candidate validated (or as the memo knows its line): the lease, or why it is none. */
function recordOf(c, memo) {
    const known = c.text !== null ? memo?.get(c.text) : undefined;
    if (known !== undefined)
        return known;
    let raw = c.raw;
    if (raw === undefined && c.text !== null) {
        try {
            raw = JSON.parse(c.text);
        }
        catch {
            raw = c.text; // not a record: rejected like any other bad record
        }
    }
    return validateLease(raw);
}
/** A rejected candidate's text as the quarantine keeps it. */
function shownText(c) {
    if (c.text !== null)
        return c.text;
    try {
        // c.raw is a parsed value here (only one-line candidates carry no raw value)
        return JSON.stringify(c.raw);
    }
    catch {
        return '';
    }
}
/**
 * Does a state holding `leases` need to survive a crash of the machine? Only when a record in
 * it can outlive a reboot: a directory owner (alive while the directory exists), no owner
 * (TTL only), a container (its engine may restart it). Every other owner is a process, a
 * session or a process tree of this boot, provably dead after any reboot (another boot id),
 * so losing such records to a power cut loses nothing live (docs/adr/0004-durability.md).
 */
function mustSurviveReboot(leases) {
    return leases.some((l) => l.owner === null || l.owner.kind === 'dir' || l.owner.kind === 'container');
}
/** Write the state atomically; with a memo, the memo then knows the lines written. */
function writeState(dir, leases, memo) {
    try {
        writeAtomic((0,external_node_path_namespaceObject.join)(dir, STATE_FILE), serialize(leases, memo), 0o666, mustSurviveReboot(leases));
    }
    catch (err) {
        throw registryError(dir, err);
    }
}
/** Identity of the state file as it is now (null when absent). */
function stateFileId(dir) {
    try {
        const st = (0,external_node_fs_namespaceObject.lstatSync)((0,external_node_path_namespaceObject.join)(dir, STATE_FILE), { bigint: true });
        return { ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs };
    }
    catch {
        return null;
    }
}
function sameFile(a, b) {
    return (a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs);
}

;// CONCATENATED MODULE: ./src/core/cache.ts
/**
 * What one Registry remembers of its state file between operations, and the reads and
 * writes that keep it: the state it last saw under the lock (so a read under the next lock
 * can be skipped when provably nothing changed) and its record memo (so a line read again is
 * not validated again). Each Registry owns one; two registries in one process never share
 * what they remember.
 */




class StateCache {
    /**
     * The state as this registry last saw it under the lock: lock generation, file identity and
     * the validated leases. Lock generations are consecutive, so when this registry now holds
     * generation G+1 and the file is the very one it saw at G, no other process can have
     * written in between and the file need not be read and validated again.
     */
    seen;
    /** The record lines this registry last read or wrote, validated (memo.ts). */
    memo = new RecordMemo();
    dir;
    log;
    constructor(dir, log) {
        this.dir = dir;
        this.log = log;
    }
    /** The state, under the lock: from the last operation when provably unchanged, else read. */
    read(lock) {
        const file = stateFileId(this.dir);
        const seen = this.seen;
        this.seen = undefined;
        if (seen && lock.generation === seen.generation + 1 && sameFile(file, seen.file)) {
            return { leases: [...seen.leases], rejected: 0 };
        }
        const state = readState(this.dir, { quarantine: true, warn: this.log.warn, memo: this.memo });
        if (state.newer !== undefined) {
            throw new RuntimeError(`registry ${this.dir} was written by a newer portlease (format version ${state.newer}; this one writes version ${STATE_VERSION}); refusing to change it. Upgrade portlease, or use another --registry`);
        }
        if (state.rejected === 0)
            this.remember(lock, file, state.leases);
        return state;
    }
    /**
     * The state without the lock (every write is atomic, so a read sees a whole state):
     * damage is only warned about, never quarantined or moved aside.
     */
    peek() {
        return readState(this.dir, { quarantine: false, warn: this.log.warn, memo: this.memo });
    }
    /**
     * Write the state under the lock. Returns false when the lock had moved on by the time the
     * write landed (a takeover needs proof of the holder's death, so this should never
     * happen; if it does, the caller checks under a fresh lock what is really there).
     */
    write(lock, leases) {
        lock.assertHeld();
        this.seen = undefined;
        writeState(this.dir, leases, this.memo);
        if (!lock.held()) {
            this.log.debug?.(`lock generation ${lock.generation} was taken over while this wrote`);
            return false;
        }
        this.remember(lock, stateFileId(this.dir), leases);
        return true;
    }
    remember(lock, file, leases) {
        this.seen = file === null ? undefined : { generation: lock.generation, file, leases };
    }
}

;// CONCATENATED MODULE: ./src/core/choose.ts
/** 32-bit FNV-1a: stable across processes, platforms and Node versions. */
function fnv1a(text) {
    let h = 0x811c9dc5;
    for (const byte of Buffer.from(text, 'utf8')) {
        h ^= byte;
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
}
/** The first port to look at. `hash`: a stable function of the key; `random`; `sequential`: LO. */
function startPort(range, strategy, key) {
    const span = range.hi - range.lo + 1;
    switch (strategy) {
        case 'sequential':
            return range.lo;
        case 'random':
            return range.lo + Math.floor(Math.random() * span);
        case 'hash':
            return range.lo + (fnv1a(key) % span);
    }
}
/**
 * Pick `count` ports, scanning from `start` to the top of the range and wrapping to the
 * bottom. Contiguous blocks do not wrap (they must fit below HI). Returns null when the
 * range cannot supply them.
 */
async function choosePorts(input) {
    const { count, range, start } = input;
    const span = range.hi - range.lo + 1;
    const known = new Map();
    const usable = async (p) => {
        let ok = known.get(p);
        if (ok === undefined) {
            ok = await input.usable(p);
            known.set(p, ok);
        }
        return ok;
    };
    if (!input.contiguous) {
        const got = [];
        for (let i = 0; i < span && got.length < count; i++) {
            const p = range.lo + ((start - range.lo + i) % span);
            if (await usable(p))
                got.push(p);
        }
        return got.length === count ? got : null;
    }
    if (count > span)
        return null;
    // Block starts, in scan order; a block [b, b+count-1] must lie inside the range.
    const lastStart = range.hi - count + 1;
    const starts = lastStart - range.lo + 1;
    const first = Math.min(start, lastStart);
    for (let i = 0; i < starts;) {
        const b = range.lo + ((first - range.lo + i) % starts);
        let bad = -1;
        for (let j = 0; j < count; j++) {
            if (!(await usable(b + j))) {
                bad = j;
                break;
            }
        }
        if (bad < 0)
            return Array.from({ length: count }, (_, j) => b + j);
        // No block starting at b..b+bad can work; skip them (unless that wraps past the end).
        const next = b + bad + 1;
        i += next <= lastStart ? bad + 1 : 1;
    }
    return null;
}
/** Are these ports one block of consecutive numbers (in any order)? */
function isBlock(ports) {
    if (ports.length === 0)
        return true;
    const lo = Math.min(...ports);
    const hi = Math.max(...ports);
    return hi - lo + 1 === ports.length && new Set(ports).size === ports.length;
}
/**
 * `count` more ports that make one consecutive block together with `held` (itself a block),
 * inside `range`: the block is extended downwards, upwards or both. Returns the new ports
 * (lowest first), or null when no such block is free.
 */
async function extendBlock(held, count, range, usable) {
    if (!isBlock(held) || held.length === 0)
        return null;
    const lo = Math.min(...held);
    const hi = Math.max(...held);
    const size = hi - lo + 1 + count;
    const known = new Map();
    const ok = async (p) => {
        let v = known.get(p);
        if (v === undefined) {
            v = await usable(p);
            known.set(p, v);
        }
        return v;
    };
    // Block starts b with b <= lo and b + size - 1 >= hi, nearest to the held block's start first.
    for (let b = lo; b >= Math.max(range.lo, hi - size + 1); b--) {
        const end = b + size - 1;
        if (end > range.hi)
            continue;
        const fresh = [];
        for (let p = b; p <= end; p++)
            if (p < lo || p > hi)
                fresh.push(p);
        let all = true;
        for (const p of fresh) {
            if (!(await ok(p))) {
                all = false;
                break;
            }
        }
        if (all)
            return fresh;
    }
    return null;
}

;// CONCATENATED MODULE: ./src/core/conflicts.ts
/**
 * Records that claim one port or key (a hand edit, a restore of an old copy, a salvaged
 * file) resolved in favour of the live record (docs/adr/0002-store-salvage.md): a dead
 * claimant is dropped; of two live claimants, the record written first keeps the port and
 * the later one loses that port only. No port is ever held by two live leases.
 */

/**
 * Records that claim a port or a key another record claims (a hand edit, a restore, a
 * salvaged file): keep every live claimant and drop the dead ones (`deadReason` says why a
 * record is dead, null while it lives). A port two live records claim stays with the one
 * written first; the later one loses that port only.
 */
async function resolveConflicts(leases, deadReason, log) {
    const byPort = new Map();
    const byKey = new Map();
    for (const l of leases) {
        for (const p of Object.values(l.ports))
            byPort.set(p, [...(byPort.get(p) ?? []), l]);
        byKey.set(l.key, [...(byKey.get(l.key) ?? []), l]);
    }
    const involved = new Set();
    for (const group of [...byPort.values(), ...byKey.values()]) {
        if (group.length > 1)
            for (const l of group)
                involved.add(l);
    }
    if (involved.size === 0)
        return { kept: [...leases], dropped: [] };
    const dropped = [];
    const gone = new Set();
    for (const l of involved) {
        const reason = await deadReason(l);
        if (reason !== null) {
            gone.add(l);
            dropped.push({ lease: l, reason });
        }
    }
    const live = [...involved].filter((l) => !gone.has(l));
    // Dropping records is news; two live claimants kept again on every call are not.
    (dropped.length > 0 ? log.warn : log.debug)?.(`registry: ${involved.size} records claim the same port or key; kept the ${live.length} live one${live.length === 1 ? '' : 's'}${live.length > 0 ? ` (${live.map((l) => l.id).join(', ')})` : ''}${dropped.length > 0 ? `, dropped ${dropped.length} dead (${dropped.map((d) => d.lease.id).join(', ')})` : ''}`);
    // A port still claimed by two live records stays with the one written first; a later
    // claimant loses that port only (its other ports stay), so no port is ever held by two
    // live leases, and nothing else of a record goes because of its neighbour.
    const taken = new Map();
    const kept = [];
    for (const l of leases) {
        if (gone.has(l))
            continue;
        const own = Object.entries(l.ports).filter(([, p]) => !taken.has(p));
        if (own.length === Object.keys(l.ports).length) {
            for (const [, p] of own)
                taken.set(p, l);
            kept.push(l);
            continue;
        }
        const lost = Object.entries(l.ports).filter(([, p]) => taken.has(p));
        log.warn?.(`registry: ${l.id} (key ${JSON.stringify(l.key)}) claims ${lost.map(([n, p]) => `${n}=${p}`).join(' ')}, held by ${lost.map(([, p]) => taken.get(p)?.id ?? '?').join(', ')}; ${own.length > 0 ? 'it keeps its other ports' : 'it holds nothing else and is dropped'}`);
        if (own.length === 0) {
            dropped.push({ lease: l, reason: 'every port it claims is held by an earlier live lease' });
            continue;
        }
        const rest = freezeLease({ ...l, ports: Object.fromEntries(own) });
        for (const [, p] of own)
            taken.set(p, rest);
        kept.push(rest);
    }
    return { kept, dropped };
}

;// CONCATENATED MODULE: external "node:timers/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");
;// CONCATENATED MODULE: external "node:worker_threads"
const external_node_worker_threads_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:worker_threads");
;// CONCATENATED MODULE: external "node:net"
const external_node_net_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");
;// CONCATENATED MODULE: ./src/core/lock-dir.ts
/**
 * The lock directory `<registry>/lock/` and the names in it (lock.ts tells what they mean):
 * generations `g000000000041`, their release marks `g000000000041.done`, holder-record temp
 * files `t.<pid>.<random>` and liveness sockets `s.<pid>.<random>`. Making the directory,
 * listing its generations, and the two file helpers every lock module uses. No state.
 */



/** The last generation number: 15 digits (far below 2^53, so numbers stay exact). */
const MAX_GENERATION = 999_999_999_999_999;
const GEN = /^g(\d{12,15})$/;
const DONE = /^g(\d{12,15})\.done$/;
const lock_dir_TEMP = /^t\.(\d+)\.[0-9a-z]+$/;
const SOCK = /^s\.\d+\.[0-9a-z]+$/;
const genName = (g) => `g${String(g).padStart(12, '0')}`;
/** The generation a name stands for, only for names in genName's own spelling. */
function numberOf(name, re, suffix) {
    const m = re.exec(name);
    if (!m)
        return null;
    const g = Number(m[1]);
    return genName(g) + suffix === name ? g : null;
}
function list(dir) {
    const names = (0,external_node_fs_namespaceObject.readdirSync)(dir);
    let max = 0;
    const done = new Set();
    for (const n of names) {
        const g = numberOf(n, GEN, '');
        if (g !== null) {
            max = Math.max(max, g);
            continue;
        }
        const d = numberOf(n, DONE, '.done');
        if (d !== null)
            done.add(d);
    }
    return { max, maxDone: done.has(max), names };
}
/** The lock directory, made if need be; `id` is its identity (device and inode). */
function ensureLockDir(registryDir) {
    const dir = (0,external_node_path_namespaceObject.join)(registryDir, 'lock');
    try {
        (0,external_node_fs_namespaceObject.mkdirSync)(dir, { mode: 0o777 });
        (0,external_node_fs_namespaceObject.chmodSync)(dir, 0o777);
    }
    catch (err) {
        if (errnoCode(err) !== 'EEXIST')
            throw err;
    }
    const st = (0,external_node_fs_namespaceObject.lstatSync)(dir, { bigint: true });
    if (!st.isDirectory()) {
        throw new RuntimeError(`registry lock ${dir} is not a directory (a symlink or a file); remove it`);
    }
    return { dir, id: `${st.dev}:${st.ino}` };
}
function exists(path) {
    try {
        (0,external_node_fs_namespaceObject.lstatSync)(path);
        return true;
    }
    catch {
        return false;
    }
}
function tryUnlink(path) {
    try {
        (0,external_node_fs_namespaceObject.unlinkSync)(path);
    }
    catch {
        // already gone, or not ours to remove: either way nothing to do
    }
}

;// CONCATENATED MODULE: ./src/core/lock-beacon.ts
/**
 * A lock holder's liveness socket (its beacon) and the probe that asks the kernel about
 * someone else's. The holder listens on `lock/s.<pid>.<random>` from before it links its
 * generation until after it writes `.done`; a contender's connect() answering ECONNREFUSED
 * on an existing socket file proves the listener gone (docs/adr/0001-lock-takeover.md).
 */






/** sun_path holds 108 bytes on Linux (104 on macOS), the terminating NUL included. */
const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;
/** How long a contender waits for connect() on a holder's socket before calling it alive. */
const PROBE_TIMEOUT_MS = 1000;
/**
 * Ask the kernel whether anyone listens on a holder's socket. ECONNREFUSED on an existing
 * socket file is proof that its listener is gone; every other answer means alive, except a
 * missing (or replaced) socket file, which proves nothing.
 */
function probeSocket(path) {
    try {
        // connect() to a regular file also answers ECONNREFUSED: only a socket counts.
        if (!(0,external_node_fs_namespaceObject.lstatSync)(path).isSocket())
            return Promise.resolve('missing');
    }
    catch (err) {
        return Promise.resolve(errnoCode(err) === 'ENOENT' ? 'missing' : 'alive');
    }
    return new Promise((resolve) => {
        const s = (0,external_node_net_namespaceObject.connect)({ path });
        const done = (p) => {
            clearTimeout(timer);
            s.destroy();
            resolve(p);
        };
        const timer = setTimeout(() => {
            done('alive');
        }, PROBE_TIMEOUT_MS);
        s.once('connect', () => {
            done('alive');
        });
        s.once('error', (err) => {
            const code = errnoCode(err);
            done(code === 'ECONNREFUSED' ? 'dead' : code === 'ENOENT' ? 'missing' : 'alive');
        });
    });
}
async function openBeacon(dir, debug) {
    for (let attempt = 0; attempt < 3; attempt++) {
        const name = `s.${process.pid}.${randomSuffix(8)}`;
        const path = (0,external_node_path_namespaceObject.join)(dir, name);
        if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
            debug?.(`lock: ${path} is too long for a unix socket; the pid rules alone prove death`);
            return null;
        }
        const server = (0,external_node_net_namespaceObject.createServer)((c) => {
            c.destroy();
        });
        try {
            await new Promise((resolve, reject) => {
                server.once('error', reject);
                server.listen(path, () => {
                    server.off('error', reject);
                    resolve();
                });
            });
        }
        catch (err) {
            server.close();
            if (errnoCode(err) === 'EADDRINUSE')
                continue;
            debug?.(`lock: cannot listen on ${path} (${errnoCode(err) ?? String(err)}); the pid rules alone prove death`);
            return null;
        }
        server.on('error', () => undefined); // an accept error must not end the process
        server.unref();
        try {
            (0,external_node_fs_namespaceObject.chmodSync)(path, 0o666); // any user may connect(); umask does not apply
        }
        catch {
            // others then get EACCES, which they count as alive: safe
        }
        // The name the holder record gives is a second hard link to the socket. Node unlinks a
        // socket's own path when its server closes, and so when a worker thread is terminated
        // while it holds the lock (its handles are closed): the path would then be missing, which
        // proves nothing, and the pid rules would call the holder's live process alive for as
        // long as it runs. The second name outlives any close: nobody listens on it any more, so
        // connect() answers ECONNREFUSED, the kernel's proof that the holder is gone.
        const alias = `s.${process.pid}.${randomSuffix(8)}`;
        let named = name;
        try {
            (0,external_node_fs_namespaceObject.linkSync)(path, (0,external_node_path_namespaceObject.join)(dir, alias));
            named = alias;
        }
        catch {
            // no hard links here: the socket's own path, as before
        }
        return {
            name: named,
            close() {
                server.close();
                tryUnlink(path);
                if (named !== name)
                    tryUnlink((0,external_node_path_namespaceObject.join)(dir, named));
            },
        };
    }
    return null;
}

;// CONCATENATED MODULE: ./src/core/lock-holder.ts
/**
 * The holder record a generation holds: written whole to a temp file before link() makes it
 * the generation (mode 0644 whatever the umask), and read back by contenders, trusting
 * nothing in it. Every file is opened with O_NONBLOCK and O_NOFOLLOW and checked to be a
 * regular file after open, so a FIFO or symlink planted in the lock directory cannot hang
 * or fool a command.
 */







/** A holder record is a few hundred bytes; anything much larger is not one. */
const MAX_HOLDER_BYTES = 4096;
function readHolder(path) {
    let text;
    try {
        const fd = (0,external_node_fs_namespaceObject.openSync)(path, external_node_fs_namespaceObject.constants.O_RDONLY | external_node_fs_namespaceObject.constants.O_NOFOLLOW | external_node_fs_namespaceObject.constants.O_NONBLOCK);
        try {
            const st = (0,external_node_fs_namespaceObject.fstatSync)(fd);
            if (!st.isFile())
                return { kind: 'not-file', what: fileKind(st) };
            const buf = Buffer.alloc(MAX_HOLDER_BYTES);
            const n = (0,external_node_fs_namespaceObject.readSync)(fd, buf, 0, MAX_HOLDER_BYTES, 0);
            text = buf.toString('utf8', 0, n);
            if (st.size > MAX_HOLDER_BYTES) {
                return { kind: 'damaged', what: `${st.size} bytes, far larger than a holder record`, text };
            }
        }
        finally {
            (0,external_node_fs_namespaceObject.closeSync)(fd);
        }
    }
    catch (err) {
        const code = errnoCode(err) ?? 'error';
        if (code === 'ENOENT')
            return { kind: 'gone' };
        if (code === 'ELOOP')
            return { kind: 'not-file', what: 'a symlink' };
        if (code === 'ENXIO')
            return { kind: 'not-file', what: 'a socket' };
        return { kind: 'unreadable', code };
    }
    return holderOf(text);
}
/** What a holder record's text says, field by field. */
function holderOf(text) {
    let v;
    try {
        v = JSON.parse(text);
    }
    catch {
        return { kind: 'damaged', what: text === '' ? 'empty' : 'not JSON', text };
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        return { kind: 'damaged', what: 'not a JSON object', text };
    }
    const r = v;
    const instance = v.instance;
    // Every release has written the holder's pid: a record without one is nobody's.
    if (!Number.isInteger(r.pid))
        return { kind: 'damaged', what: 'a record without a pid', text };
    const owner = validOwner(v);
    if (owner?.kind === 'process' && typeof r.acquired === 'number') {
        return {
            kind: 'holder',
            holder: {
                ...owner,
                acquired: r.acquired,
                sock: typeof r.sock === 'string' && SOCK.test(r.sock) ? r.sock : null,
                thread: Number.isInteger(r.thread) && r.thread >= 0 ? r.thread : null,
                instance: typeof instance === 'string' && /^[0-9a-z]{16}$/.test(instance) ? instance : null,
            },
        };
    }
    return { kind: 'foreign' };
}
/** The holder record, complete, in a temp file of its own in `dir`: its path, to link(). */
function writeHolderTemp(dir, holder) {
    const temp = (0,external_node_path_namespaceObject.join)(dir, `t.${holder.pid}.${randomSuffix(12)}`);
    const fd = (0,external_node_fs_namespaceObject.openSync)(temp, external_node_fs_namespaceObject.constants.O_WRONLY |
        external_node_fs_namespaceObject.constants.O_CREAT |
        external_node_fs_namespaceObject.constants.O_EXCL |
        external_node_fs_namespaceObject.constants.O_NOFOLLOW |
        external_node_fs_namespaceObject.constants.O_NONBLOCK, 0o644);
    try {
        (0,external_node_fs_namespaceObject.fchmodSync)(fd, 0o644); // readable by every user, whatever the umask
        (0,external_node_fs_namespaceObject.writeSync)(fd, JSON.stringify(holder));
    }
    catch (err) {
        (0,external_node_fs_namespaceObject.closeSync)(fd);
        tryUnlink(temp);
        throw err;
    }
    (0,external_node_fs_namespaceObject.closeSync)(fd);
    return temp;
}

;// CONCATENATED MODULE: external "node:os"
const external_node_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");
;// CONCATENATED MODULE: ./src/core/proc.ts
/**
 * Reading the process table from /proc (Linux): every visible process with its parent,
 * process group, session, state and start time; the environment cookie exec puts on its
 * tree; whether /proc hides other users' processes (hidepid). Used by the owner kinds that
 * are judged by many processes at once (session, exec tree) and by `exec` to find its tree.
 *
 * Everything here answers "what can be seen from here" and says when that view is partial:
 * the callers decide that a partial view never proves anything dead.
 */


/** Parse /proc/PID/stat text (comm may hold spaces and parentheses: split after the last ')'). */
function parseStat(pid, text) {
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    if (open < 0 || close < open)
        return null;
    const rest = text.slice(close + 2).split(' ');
    const [state, ppid, pgid, sid] = rest;
    const start = rest[19];
    if (state === undefined || start === undefined || !/^\d+$/.test(start))
        return null;
    return {
        pid,
        ppid: Number(ppid),
        pgid: Number(pgid),
        sid: Number(sid),
        state,
        start,
        comm: text.slice(open + 1, close),
    };
}
/** Does any thread of `pid` (other than an exited leader) still run? */
function anyLiveThread(pid) {
    let tids;
    try {
        tids = (0,external_node_fs_namespaceObject.readdirSync)(`/proc/${pid}/task`);
    }
    catch {
        return false;
    }
    for (const tid of tids) {
        if (tid === String(pid))
            continue;
        try {
            const st = parseStat(Number(tid), (0,external_node_fs_namespaceObject.readFileSync)(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
            if (st && st.state !== 'Z' && st.state !== 'X')
                return true;
        }
        catch {
            // thread gone meanwhile
        }
    }
    return false;
}
/** One process as /proc shows it now: null when gone, 'unreadable' when it cannot be read. */
function readProc(pid) {
    let text;
    try {
        text = (0,external_node_fs_namespaceObject.readFileSync)(`/proc/${pid}/stat`, 'utf8');
    }
    catch (err) {
        const code = errnoCode(err);
        return code === 'ENOENT' || code === 'ESRCH' ? null : 'unreadable';
    }
    const st = parseStat(pid, text);
    if (st === null)
        return 'unreadable';
    const exited = st.state === 'Z' || st.state === 'X';
    return { ...st, live: !exited || (st.state === 'Z' && anyLiveThread(pid)) };
}
/** Is /proc (as mounted here, the topmost mount on /proc) mounted with hidepid? */
function procHidesProcesses() {
    let text;
    try {
        text = (0,external_node_fs_namespaceObject.readFileSync)('/proc/self/mountinfo', 'utf8');
    }
    catch {
        return true; // cannot tell: assume the worst (never prove anything dead on it)
    }
    let hides = false;
    let found = false;
    for (const line of text.split('\n')) {
        const sep = line.indexOf(' - ');
        if (sep < 0)
            continue;
        const point = line.slice(0, sep).split(' ')[4];
        const [fstype, , options = ''] = line.slice(sep + 3).split(' ');
        if (point !== '/proc' || fstype !== 'proc')
            continue;
        found = true; // a later mount on /proc covers an earlier one
        hides = /(?:^|,)hidepid=(?!0(?:,|$)|off(?:,|$))/.test(options);
    }
    return !found || hides;
}
/** Every process visible in /proc, or null when there is no usable /proc (not Linux). */
function scanProcesses() {
    let names;
    try {
        names = (0,external_node_fs_namespaceObject.readdirSync)('/proc');
        (0,external_node_fs_namespaceObject.readFileSync)('/proc/self/stat');
    }
    catch {
        return null;
    }
    const procs = [];
    let complete = true;
    for (const name of names) {
        if (!/^\d+$/.test(name))
            continue;
        const p = readProc(Number(name));
        if (p === 'unreadable')
            complete = false;
        else if (p !== null)
            procs.push(p);
    }
    return { procs, complete, hidepid: procHidesProcesses() };
}
/** The environment variable `exec` puts on its command's tree (Jenkins's ProcessTreeKiller cookie). */
const COOKIE = 'PORTLEASE_LEASE';
/** The uids (real and effective) of `pid` from /proc/PID/status, or null. */
function processUids(pid) {
    try {
        const status = (0,external_node_fs_namespaceObject.readFileSync)(`/proc/${pid}/status`, 'utf8');
        const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
        return m ? [Number(m[1]), Number(m[2])] : null;
    }
    catch {
        return null;
    }
}
/** The PORTLEASE_LEASE value in an environ block (NUL-separated), or null. */
function cookieOf(environ) {
    const needle = Buffer.from(`${COOKIE}=`);
    let at = 0;
    while (at < environ.length) {
        let end = environ.indexOf(0, at);
        if (end < 0)
            end = environ.length;
        if (end - at > needle.length && environ.subarray(at, at + needle.length).equals(needle)) {
            return environ.subarray(at + needle.length, end).toString('utf8');
        }
        at = end + 1;
    }
    return null;
}
/** Read the cookie of every live process of `scan`. */
function scanCookies(scan, skip = new Set()) {
    const out = { carriers: new Map(), unreadable: [] };
    for (const p of scan.procs) {
        if (!p.live || skip.has(p.pid))
            continue;
        let environ;
        try {
            environ = (0,external_node_fs_namespaceObject.readFileSync)(`/proc/${p.pid}/environ`);
        }
        catch (err) {
            const code = errnoCode(err);
            if (code === 'ENOENT' || code === 'ESRCH')
                continue;
            out.unreadable.push({ pid: p.pid, uids: processUids(p.pid), start: p.start });
            continue;
        }
        const id = cookieOf(environ);
        if (id === null)
            continue;
        const list = out.carriers.get(id);
        if (list)
            list.push(p.pid);
        else
            out.carriers.set(id, [p.pid]);
    }
    return out;
}

;// CONCATENATED MODULE: ./src/core/owner.ts
/**
 * Who owns a lease or the lock, and whether that owner is provably dead. Every entry point
 * (CLI, action, container step, library) takes its owner kinds and its default owner from
 * here, so lifetimes are decided in one place (docs/lifetimes.md).
 *
 * Kinds: `process` (below), `container` (a job container, judged by the engine), `session`
 * (a Unix session: alive while any process is in it), `dir` (alive while a directory
 * exists), `tree` (what `portlease exec` supervises: its own process, its command's
 * session, and every process carrying PORTLEASE_LEASE=<lease id>); no owner at all (null)
 * means TTL only.
 *
 * A process is named by pid + start time + boot id + host + pid namespace. It is dead only
 * when that can be proven from here: same kernel boot and same pid namespace, and the pid is
 * gone or now belongs to a process that started at another time (pid reuse); or same host
 * with another boot id (the host rebooted). Anything else (another host, another pid
 * namespace) is "unknown": never reclaimed on liveness, only on TTL.
 *
 * Linux gives all of this through /proc. macOS and Windows get start times and (macOS) a
 * boot identity from their own tools: platform.ts. Elsewhere only pid existence is known
 * (`process.kill(pid, 0)`), start time and boot id are null, and TTL does the rest.
 */








let cachedBoot;
let cachedPidns;
function bootId() {
    if (offLinux())
        return platformBootId();
    if (cachedBoot === undefined) {
        try {
            cachedBoot = (0,external_node_fs_namespaceObject.readFileSync)('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
        }
        catch {
            cachedBoot = null;
        }
    }
    return cachedBoot;
}
function pidNamespace() {
    if (offLinux())
        return null;
    if (cachedPidns === undefined) {
        try {
            cachedPidns = (0,external_node_fs_namespaceObject.readlinkSync)('/proc/self/ns/pid');
        }
        catch {
            cachedPidns = null;
        }
    }
    return cachedPidns;
}
/** What processStartTime says of a pid that runs no more. */
const GONE = Symbol('gone');
/**
 * The start time of `pid` from /proc (macOS, Windows: platform.ts), GONE if no such process,
 * or null where it cannot be told (/proc not mounted, or the entry hidden from this user).
 * `cache` is the caller's for one registry operation.
 *
 * "No /proc/PID" is not proof: with /proc mounted `hidepid=1|2` another user's processes
 * have no entry. kill(pid, 0) decides: ESRCH is gone; EPERM or success means it exists
 * (start time unknown). A zombie leader whose other threads still run (state `Zl`: the main
 * thread called pthread_exit) is alive; only a real zombie, one thread left, is gone.
 */
function processStartTime(pid, cache) {
    if (offLinux()) {
        const start = platformStartTime(pid, cache);
        return start === NO_PROCESS ? GONE : start;
    }
    let stat;
    try {
        stat = (0,external_node_fs_namespaceObject.readFileSync)(`/proc/${pid}/stat`, 'utf8');
    }
    catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ESRCH') {
            if (!procMounted())
                return null;
            return pidExists(pid) ? null : GONE;
        }
        return null;
    }
    // Field 2 (comm) is in parentheses and may hold spaces and ')': split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
    const start = rest[19];
    if (rest[0] === 'Z' && threads(pid) <= 1)
        return GONE; // a zombie has exited: it holds nothing
    return start !== undefined && /^\d+$/.test(start) ? start : null;
}
/** Threads of `pid` (/proc/PID/status), or 2 when unknown (so a zombie counts as alive). */
function threads(pid) {
    try {
        const m = /^Threads:\s*(\d+)/m.exec((0,external_node_fs_namespaceObject.readFileSync)(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) : 2;
    }
    catch (err) {
        // Reaped between the two reads: gone.
        return errnoCode(err) === 'ENOENT' && !pidExists(pid) ? 0 : 2;
    }
}
let cachedProc;
function procMounted() {
    if (cachedProc === undefined) {
        try {
            (0,external_node_fs_namespaceObject.readFileSync)('/proc/self/stat');
            cachedProc = true;
        }
        catch {
            cachedProc = false;
        }
    }
    return cachedProc;
}
/** Describe a running process as an owner, or null if `pid` is not running. */
function describeProcess(pid) {
    const start = processStartTime(pid);
    if (start === GONE)
        return null;
    if (start === null && !pidExists(pid))
        return null;
    return { kind: 'process', pid, start, boot: bootId(), host: (0,external_node_os_namespaceObject.hostname)(), pidns: pidNamespace() };
}
/** The calling process itself. */
function owner_self() {
    const me = describeProcess(process.pid);
    if (me === null)
        throw new Error('cannot describe the current process');
    return me;
}
/**
 * Is this process owner alive? `'dead'` only when provably so (see the module comment).
 * `cache` memoizes per pid within one registry operation.
 */
function processLiveness(owner, cache) {
    const myBoot = bootId();
    const myHost = (0,external_node_os_namespaceObject.hostname)();
    if (owner.boot !== null && myBoot !== null && owner.boot !== myBoot) {
        // Another kernel boot: the same host rebooted (dead), or another machine (unknown).
        return owner.host === myHost ? 'dead' : 'unknown';
    }
    if (owner.boot === null || myBoot === null) {
        if (owner.host !== myHost)
            return 'unknown';
    }
    const myNs = pidNamespace();
    if (owner.pidns !== null && myNs !== null && owner.pidns !== myNs)
        return 'unknown';
    if (owner.pidns === null && myNs !== null && owner.boot !== null)
        return 'unknown';
    let start = cache?.get(owner.pid);
    if (start === undefined) {
        start = processStartTime(owner.pid, cache);
        if (start === null && !procMounted())
            start = pidExists(owner.pid) ? null : GONE;
        cache?.set(owner.pid, start);
    }
    if (start === GONE)
        return 'dead';
    if (start !== null && owner.start !== null && start !== owner.start)
        return 'dead'; // pid reused
    return 'alive';
}
/** The comm (process name) of `pid` if it still is the process started at `start`. */
function nameOf(pid, start) {
    const p = readProc(pid);
    if (p === null || p === 'unreadable' || !p.live)
        return null;
    if (start !== null && p.start !== start)
        return null;
    return p.comm;
}
/**
 * One short line for an owner: `pid 77`, `session 4242`, `dir /src/wt1`, `exec tree 991`,
 * `none (TTL only)`. With `names`, the process names that are still running are added
 * (`pid 77 (Runner.Worker)`, `session 4242 (bash)`), as `portlease list` shows them.
 */
function describeOwner(owner, opts = {}) {
    if (owner === null)
        return 'none (TTL only)';
    const at = 'host' in owner && owner.host !== (0,external_node_os_namespaceObject.hostname)() ? `@${owner.host}` : '';
    const named = (pid, start) => {
        if (!opts.names || at !== '')
            return '';
        const name = nameOf(pid, start);
        return name === null ? '' : ` (${name})`;
    };
    switch (owner.kind) {
        case 'container':
            return `container ${owner.id.slice(0, 12)}`;
        case 'dir':
            return `dir ${owner.path}${at}`;
        case 'session':
            return `session ${owner.sid}${at}${named(owner.sid, owner.start)}`;
        case 'tree':
            return `exec tree ${owner.pid}${at}${owner.sid !== null && opts.names ? ` (session ${owner.sid})` : ''}`;
        case 'process':
            return `pid ${owner.pid}${at}${named(owner.pid, owner.start)}`;
    }
}
/**
 * Are two owner records the same owner? Field by field (records read back from the registry
 * and records made here may list their fields in another order); null (TTL only) equals
 * only null.
 */
function sameOwner(a, b) {
    if (a === null || b === null)
        return a === b;
    const x = a;
    const y = b;
    const keys = Object.keys(x);
    return (keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && x[k] === y[k]));
}
/**
 * Per-operation cache of what owners were judged by: start times per pid (processLiveness)
 * and, read at most once per operation, the process table and the environment cookies.
 */
class OwnerCache extends Map {
    scanned;
    cookieScan;
    scan() {
        if (this.scanned === undefined)
            this.scanned = scanProcesses();
        return this.scanned;
    }
    cookies() {
        const scan = this.scan();
        if (scan === null)
            return null;
        this.cookieScan ??= scanCookies(scan);
        return this.cookieScan;
    }
}
/** Same boot, host and pid namespace as here? 'dead' (rebooted), 'unknown' or 'same'. */
function sameMachine(o) {
    const myBoot = bootId();
    if (o.host !== (0,external_node_os_namespaceObject.hostname)())
        return 'unknown';
    if (o.boot !== null && myBoot !== null && o.boot !== myBoot)
        return 'dead'; // rebooted
    if (o.boot === null || myBoot === null)
        return 'unknown';
    const myNs = pidNamespace();
    if (o.pidns === null || myNs === null || o.pidns !== myNs)
        return 'unknown';
    return 'same';
}
function myUid() {
    return typeof process.getuid === 'function' ? process.getuid() : null;
}
/**
 * Can a process table scan from here see every process of user `uid`? Without hidepid,
 * yes; with it, only as root or as that same user.
 */
function seesAll(scan, uid) {
    if (!scan.complete)
        return false;
    if (!scan.hidepid)
        return true;
    const me = typeof process.geteuid === 'function' ? process.geteuid() : null;
    return me === 0 || (uid !== null && me === uid);
}
/** Is any process in session `sid` (judged from here, see SessionOwner)? */
function sessionLiveness(o, cache) {
    const scan = cache.scan();
    if (scan === null)
        return 'unknown';
    // The leader's pid now runs a process started at another time: that pid was freed, which
    // the kernel does only once no process has it as its session id any more. Any process
    // with this sid now is in a new session with the same number.
    const leader = scan.procs.find((p) => p.pid === o.sid);
    if (o.start !== null && leader !== undefined && leader.start !== o.start)
        return 'dead';
    if (scan.procs.some((p) => p.live && p.sid === o.sid))
        return 'alive';
    return seesAll(scan, o.uid) ? 'dead' : 'unknown';
}
/** Is `path` a directory on this host? */
function dirLiveness(o) {
    if (o.host !== (0,external_node_os_namespaceObject.hostname)())
        return 'unknown';
    try {
        return (0,external_node_fs_namespaceObject.statSync)(o.path).isDirectory() ? 'alive' : 'dead';
    }
    catch (err) {
        const code = errnoCode(err);
        return code === 'ENOENT' || code === 'ENOTDIR' ? 'dead' : 'unknown';
    }
}
/** exec's tree: supervisor, then its command's session, then the environment cookie. */
function treeLiveness(o, cache, leaseId) {
    const machine = sameMachine(o);
    if (machine !== 'same')
        return machine;
    const supervisor = processLiveness({ ...o, kind: 'process' }, cache);
    if (supervisor !== 'dead')
        return supervisor;
    if (o.sid !== null) {
        const session = sessionLiveness({ sid: o.sid, start: null, uid: o.uid }, cache);
        if (session !== 'dead')
            return session;
    }
    else {
        const scan = cache.scan();
        if (scan === null || !seesAll(scan, o.uid))
            return 'unknown';
    }
    if (leaseId === undefined)
        return 'unknown';
    const cookies = cache.cookies();
    if (cookies === null)
        return 'unknown';
    if ((cookies.carriers.get(leaseId)?.length ?? 0) > 0)
        return 'alive';
    // A process of the same user whose environment cannot be read might carry the cookie,
    // unless it started before exec did (the lease id did not exist yet: start times are
    // clock ticks since boot, one clock for all). Other users' processes are not looked at:
    // a stray that changed its uid is not seen.
    const mine = (uids) => uids === null || o.uid === null || uids.includes(o.uid);
    const older = (start) => o.start !== null && Number(start) < Number(o.start);
    if (cookies.unreadable.some((u) => mine(u.uids) && !older(u.start)))
        return 'unknown';
    return 'dead';
}
/**
 * Is this owner alive? 'dead' only when provably so. Containers are judged by the engine
 * (the registry's containerLiveness hook), not here: 'unknown'. `leaseId` is the lease the
 * owner holds (exec trees look for it in environments).
 */
function ownerLiveness(owner, cache, leaseId) {
    switch (owner.kind) {
        case 'process':
            return processLiveness(owner, cache);
        case 'container':
            return 'unknown';
        case 'dir':
            return dirLiveness(owner);
        case 'tree':
            return treeLiveness(owner, cache, leaseId);
        case 'session': {
            const machine = sameMachine(owner);
            return machine === 'same' ? sessionLiveness(owner, cache) : machine;
        }
    }
}
/** The session id of `pid` (/proc/PID/stat field 6), or null. */
function sessionOf(pid) {
    const p = readProc(pid);
    return p === null || p === 'unreadable' ? null : p.sid;
}
/** Describe session `sid` as an owner, or null when no process is in it (or no /proc). */
function describeSession(sid, uid = myUid()) {
    if (!(sid > 0))
        return null;
    const scan = scanProcesses();
    if (scan === null)
        return null;
    const members = scan.procs.filter((p) => p.live && p.sid === sid);
    if (members.length === 0)
        return null;
    const leader = members.find((p) => p.pid === sid);
    return {
        kind: 'session',
        sid,
        start: leader?.start ?? null,
        uid,
        boot: bootId(),
        host: (0,external_node_os_namespaceObject.hostname)(),
        pidns: pidNamespace(),
    };
}
/** The nearest ancestor of `from` (itself included) whose comm is `name`, or null. */
function findAncestor(name, from = process.ppid) {
    let pid = from;
    for (let depth = 0; depth < 64 && pid > 0; depth++) {
        const p = readProc(pid);
        if (p === null || p === 'unreadable')
            return null;
        if (p.comm === name && p.live)
            return pid;
        if (p.ppid === pid)
            return null;
        pid = p.ppid;
    }
    return null;
}
/** The process name of GitHub's runner worker: the job's process, alive for the whole job. */
const RUNNER_WORKER = 'Runner.Worker';
/**
 * The owner of a lease when the caller names none (docs/lifetimes.md): in a GitHub Actions
 * step, the job's Runner.Worker (found by walking the parent chain; TTL only when it cannot
 * be seen, as in a container job); elsewhere on Linux the caller's session, which outlives
 * pipelines, subshells, `$(...)`, `sh -c`, make, npx and git hooks; off Linux nobody (TTL).
 * It errs long (bounded by TTL and release), never short.
 */
function defaultOwner(env = process.env) {
    if (env.GITHUB_ACTIONS === 'true') {
        const worker = findAncestor(RUNNER_WORKER);
        const owner = worker === null ? null : describeProcess(worker);
        if (owner !== null) {
            return { owner, describe: `GitHub Actions step: owner is the runner worker, pid ${worker}` };
        }
        return {
            owner: null,
            describe: 'GitHub Actions step, but no Runner.Worker among the ancestors (a container job?): TTL only',
        };
    }
    let sid = sessionOf(process.pid);
    // Started with setsid: this session ends with us; the caller's session is the one that lasts.
    if (sid === process.pid)
        sid = sessionOf(process.ppid);
    const owner = sid === null ? null : describeSession(sid);
    if (owner !== null) {
        return { owner, describe: `owner is the caller's session ${owner.sid}` };
    }
    return {
        owner: null,
        describe: sid === null
            ? "no /proc to find the caller's session: TTL only"
            : `the caller's session (${sid}) lies outside this pid namespace: TTL only`,
    };
}
/** exec's own tree owner: this process as supervisor, no command session yet. */
function treeOwner() {
    const me = owner_self();
    return { ...me, kind: 'tree', sid: null, uid: myUid() };
}
const OWNER_FORMS = 'pid:N, dir:PATH, none, session, session:SID or job';
/** Parse `--owner` text. Throws UsageError naming `label`. */
function parseOwnerSpec(text, label) {
    const t = text.trim();
    const show = JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text);
    if (t === 'none')
        return { kind: 'none' };
    if (t === 'job')
        return { kind: 'job' };
    if (t === 'session')
        return { kind: 'session', sid: null };
    const colon = t.indexOf(':');
    const kind = colon < 0 ? t : t.slice(0, colon);
    const arg = colon < 0 ? '' : t.slice(colon + 1);
    if (kind === 'pid')
        return { kind: 'pid', pid: parsePid(arg, `${label} pid`) };
    if (kind === 'session')
        return { kind: 'session', sid: parsePid(arg, `${label} session`) };
    if (kind === 'dir') {
        if (arg === '')
            throw new errors_UsageError(`${label}: dir: needs a path, like dir:$PWD`);
        if (CONTROL_CHARS.test(arg)) {
            throw new errors_UsageError(`${label}: ${show} contains control characters; name a directory`);
        }
        return { kind: 'dir', path: text.slice(text.indexOf(':') + 1) };
    }
    throw new errors_UsageError(`${label}: ${show} is not an owner; use ${OWNER_FORMS}`);
}
/** The canonical path of an existing directory, for a dir owner. Throws UsageError. */
function canonicalDir(path, label) {
    const abs = (0,external_node_path_namespaceObject.isAbsolute)(path) ? path : (0,external_node_path_namespaceObject.resolve)(path);
    let real;
    try {
        real = (0,external_node_fs_namespaceObject.realpathSync)(abs);
        if (!(0,external_node_fs_namespaceObject.statSync)(real).isDirectory()) {
            throw new errors_UsageError(`${label}: ${abs} is not a directory; dir: needs a directory`);
        }
    }
    catch (err) {
        if (err instanceof errors_UsageError)
            throw err;
        const code = errnoCode(err);
        throw new errors_UsageError(`${label}: dir:${abs} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; name an existing directory`);
    }
    if (real.length > 4096 || CONTROL_CHARS.test(real)) {
        throw new errors_UsageError(`${label}: ${JSON.stringify(real.slice(0, 60))} is not a usable path`);
    }
    return real;
}
/** The key of a directory's bundle: `dir:<canonical path>` (hashed when too long for a key). */
function dirKey(path) {
    const key = `dir:${path}`;
    if (key.length <= 200)
        return key;
    return `dir:…${path.slice(-170)}#${fnv1a(path).toString(16).padStart(8, '0')}`;
}
/**
 * The key and TTL a lease gets when the caller names none, by its owner: a directory's
 * bundle has the directory's key (every caller there gets the same lease) and no TTL (it
 * lives as long as the directory); any other owner, no key (a fresh one) and `ttlMs`.
 */
function ownerDefaults(owner, ttlMs) {
    return owner?.kind === 'dir'
        ? { key: dirKey(owner.path), ttlMs: null }
        : { key: undefined, ttlMs };
}
/** Resolve an owner spec into an owner record (reads /proc and the file system). */
function resolveOwner(spec, label) {
    switch (spec.kind) {
        case 'none':
            return { owner: null, describe: 'no owner: TTL only' };
        case 'pid': {
            const owner = describeProcess(spec.pid);
            if (owner === null)
                throw new errors_UsageError(`${label}: no process ${spec.pid} is running`);
            return { owner, describe: `owner is pid ${spec.pid}` };
        }
        case 'dir': {
            const path = canonicalDir(spec.path, label);
            return { owner: { kind: 'dir', path, host: (0,external_node_os_namespaceObject.hostname)() }, describe: `owner is dir ${path}` };
        }
        case 'session': {
            const sid = spec.sid ?? sessionOf(process.pid);
            if (sid === null)
                throw new errors_UsageError(`${label}: no /proc here to find sessions`);
            // getsid() reads 0 when the session's leader lies outside our pid namespace (a process
            // started by `unshare -p`, or by a container runtime that gave it no session): the
            // processes that read 0 are not one session, so none of them can own a lease.
            if (sid === 0) {
                throw new errors_UsageError(`${label}: session: this process's session lies outside this pid namespace (its session id reads 0); use pid:N, dir:PATH or none`);
            }
            const uid = spec.sid === null ? myUid() : sessionUid(sid);
            const owner = describeSession(sid, uid);
            if (owner === null)
                throw new errors_UsageError(`${label}: no process is in session ${sid}`);
            return { owner, describe: `owner is session ${sid}` };
        }
        case 'job': {
            const worker = findAncestor(RUNNER_WORKER);
            const owner = worker === null ? null : describeProcess(worker);
            if (owner === null) {
                throw new errors_UsageError(`${label}: job: no ${RUNNER_WORKER} process among this process's ancestors (not in a GitHub Actions step on this host)`);
            }
            return { owner, describe: `owner is the runner worker, pid ${worker}` };
        }
    }
}
/** The real uid of session `sid`'s leader, else of any of its processes, else ours. */
function sessionUid(sid) {
    const scan = scanProcesses();
    const members = (scan?.procs ?? []).filter((p) => p.live && p.sid === sid);
    members.sort((a, b) => (a.pid === sid ? -1 : b.pid === sid ? 1 : 0));
    for (const m of members) {
        try {
            const st = (0,external_node_fs_namespaceObject.readFileSync)(`/proc/${m.pid}/status`, 'utf8');
            const uid = /^Uid:\s+(\d+)/m.exec(st);
            if (uid)
                return Number(uid[1]);
        }
        catch {
            // gone meanwhile
        }
    }
    return myUid();
}

;// CONCATENATED MODULE: ./src/core/lock-takeover.ts
/**
 * Judging the holder of the highest generation, and what follows a takeover
 * (docs/adr/0001-lock-takeover.md): a generation is taken over only on proof that its holder
 * is dead (its socket refuses, or the pid rules of owner.ts), or when no release can have
 * written it (a damaged one, healed into quarantine/). After winning, the generations below
 * and what killed processes left behind are swept. The timeout message names a holder that
 * could not be taken over and how to recover.
 *
 * No state here: what this module instance holds is lock.ts's, and judge() is told it.
 */







/** Temp files and sockets of killed processes are removed once they are this old. */
const LEFTOVER_MS = 60_000;
async function judge(dir, gen, own) {
    const name = genName(gen);
    const r = readHolder((0,external_node_path_namespaceObject.join)(dir, name));
    switch (r.kind) {
        case 'gone':
            return { state: 'look-again', holder: null, why: '' };
        case 'damaged':
            return {
                state: 'dead',
                holder: null,
                why: `lock/${name} is ${r.what}, which no portlease writes`,
                damaged: { what: r.what, text: r.text },
            };
        case 'not-file':
            // Generations are made by link() of a regular file: this one was never a holder's.
            return { state: 'dead', holder: null, why: `lock/${name} is ${r.what}, not a holder record` };
        case 'unreadable':
            return {
                state: 'alive',
                holder: null,
                why: `its record lock/${name} cannot be read (${r.code})`,
            };
        case 'foreign':
            return {
                state: 'unverifiable',
                holder: null,
                why: `lock/${name} is not a holder record this portlease can read`,
            };
    }
    return judgeHolder(dir, gen, r.holder, own);
}
/** A readable holder record: by this instance's memory, its socket, then the pid rules. */
async function judgeHolder(dir, gen, h, own) {
    if (h.instance === own.instance) {
        // Only this module instance writes its nonce, and it knows every generation it holds.
        // (The same pid proves nothing: another thread, or another copy of this module in this
        // thread, is judged by its socket like any other process.)
        return own.holds(gen)
            ? { state: 'alive', holder: h, why: 'this thread holds it (another acquisition)' }
            : { state: 'dead', holder: h, why: 'this thread linked it and no longer holds it' };
    }
    if (h.sock !== null) {
        const p = await probeSocket((0,external_node_path_namespaceObject.join)(dir, h.sock));
        if (p === 'dead')
            return { state: 'dead', holder: h, why: `nothing listens on lock/${h.sock}` };
        if (p === 'alive')
            return { state: 'alive', holder: h, why: `it answers on lock/${h.sock}` };
        // The socket is gone: the holder released just now (it removes the socket after
        // writing .done), or someone removed it. Only the pid rules can tell more.
        if (exists((0,external_node_path_namespaceObject.join)(dir, `${genName(gen)}.done`))) {
            return { state: 'look-again', holder: h, why: '' };
        }
    }
    const liveness = processLiveness(h);
    if (liveness === 'dead')
        return { state: 'dead', holder: h, why: 'its process is gone' };
    if (liveness === 'alive')
        return { state: 'alive', holder: h, why: 'its process runs' };
    return {
        state: 'unverifiable',
        holder: h,
        why: h.sock === null
            ? 'it has no liveness socket and runs in another pid namespace or on another host'
            : `its socket lock/${h.sock} is missing and it runs in another pid namespace or on another host`,
    };
}
/**
 * A damaged generation this contender took over: its text is kept in the registry's
 * quarantine/ for a person to inspect (cleanup then removes it like any older generation),
 * and one warning says so.
 */
function heal(registryDir, damaged, warn) {
    const name = genName(damaged.gen);
    const kept = keepInQuarantine(registryDir, 'lock', JSON.stringify({
        file: (0,external_node_path_namespaceObject.join)(registryDir, 'lock', name),
        read: new Date().toISOString(),
        what: damaged.what,
        text: damaged.text,
    }) + '\n');
    warn?.(`registry lock: lock/${name} was ${damaged.what}, which no portlease writes, so no one held it; took the lock over${kept === null ? '' : ` and kept the file in ${kept}`}`);
}
function timeoutMessage(registryDir, dir, last, timeoutMs) {
    const secs = Math.round(timeoutMs / 1000);
    const who = last?.verdict.holder ? describeOwner(last.verdict.holder) : 'an unknown process';
    const file = last ? (0,external_node_path_namespaceObject.join)(dir, genName(last.gen)) : dir;
    const recover = `if no portlease process runs on this host, remove ${file} to recover`;
    if (last?.verdict.state === 'unverifiable') {
        return `registry lock in ${registryDir} is held by ${who}, which cannot be checked from here (${last.verdict.why}); waited ${secs}s, and a lock is never taken over on age: ${recover}`;
    }
    return `registry lock in ${registryDir} is held by ${who} for over ${secs}s (${last?.verdict.why ?? 'alive'}); is a portlease process stuck? ${recover}`;
}
/**
 * After winning generation `gen`: remove every generation below it, and what killed
 * processes left behind once it is old (temp files; sockets nobody listens on).
 */
async function cleanup(dir, names, gen, mySock) {
    const now = Date.now();
    const old = (n) => {
        try {
            return now - (0,external_node_fs_namespaceObject.lstatSync)((0,external_node_path_namespaceObject.join)(dir, n)).mtimeMs > LEFTOVER_MS;
        }
        catch {
            return false; // gone already
        }
    };
    for (const n of names) {
        const g = numberOf(n, GEN, '') ?? numberOf(n, DONE, '.done');
        if (g !== null) {
            if (g < gen)
                tryUnlink((0,external_node_path_namespaceObject.join)(dir, n));
            continue;
        }
        const t = lock_dir_TEMP.exec(n);
        if (t) {
            // A temp file of a process killed between write and link: remove once it is old.
            if (Number(t[1]) !== process.pid && old(n))
                tryUnlink((0,external_node_path_namespaceObject.join)(dir, n));
            continue;
        }
        // The socket of a process killed while it held or waited for the lock. Only an old one
        // that provably has no listener: a live contender's socket stays.
        if (SOCK.test(n) && n !== mySock && old(n) && (await probeSocket((0,external_node_path_namespaceObject.join)(dir, n))) === 'dead') {
            tryUnlink((0,external_node_path_namespaceObject.join)(dir, n));
        }
    }
}

;// CONCATENATED MODULE: ./src/core/lock.ts
/**
 * The host-level mutex around every read-modify-write of the registry.
 *
 * Node has no flock(), and a lock file that a dead holder leaves behind must be taken over
 * without ever letting two processes hold the lock. The classic "unlink the stale lock,
 * then create it again" races (two takers both find it stale; the slower one unlinks the
 * lock the faster one just made: proper-lockfile#121). This lock never removes the current
 * lock file. It is a sequence of generations in `<registry>/lock/`:
 *
 *   g000000000041        created with link() (atomic, never overwrites), holds the holder's
 *                        identity (pid, start time, boot id, host, pid namespace) and the
 *                        name of its liveness socket; mode 0644 whatever the umask
 *   g000000000041.done   created when that holder releases
 *   s.<pid>.<random>     the holder's liveness socket: a unix socket it listens on from
 *                        before it links its generation until after it writes `.done`,
 *                        and a second name (hard link) of it, which the record gives
 *
 * The lock is held by the creator of the highest generation while it has no `.done`. A
 * generation is taken over only on PROOF that its holder is dead, never on age
 * (docs/adr/0001-lock-takeover.md):
 *
 * - connect() to the holder's socket answers ECONNREFUSED: the socket file exists and
 *   nobody listens on it, so the process that listened has exited. This is the kernel's
 *   word, and it holds across users, pid namespaces (container jobs), hidepid and bind
 *   mounts, with no /proc. Connected, EAGAIN (backlog full), EACCES or a timeout: alive.
 * - A holder record without a socket (written by an older portlease, or a registry path too
 *   long for a socket path) or whose socket file is missing: the pid rules of owner.ts
 *   (same boot and pid namespace, pid gone or start time changed; same host, other boot).
 * - A holder that cannot be judged (another pid namespace without a socket, an unreadable
 *   record, or a record with a pid that this release cannot read) is waited for; at the
 *   timeout the contender fails with one line naming the holder and how to recover.
 * - A generation no release can have written (empty, not JSON, no pid, too large) is no
 *   one's: every release links a complete record, and listens on its socket before the
 *   link. It is taken over at once; its text is kept in quarantine/ and one warning says so.
 * - A record linked by this very module instance (its nonce, `instance`) is judged by what
 *   the instance knows it holds. The pid proves nothing: worker threads share it
 *   (docs/adr/0003-thread-identity.md), so another thread's hold is judged by its socket.
 *
 * To acquire, a process finds the highest generation G; if it is released or provably
 * dead, it links generation G+1. link() fails with EEXIST for all but one contender, so two
 * processes that find the same dead lock can never both win. After winning, the holder
 * checks that no higher generation exists (a contender working from an old listing may
 * have recreated an already cleaned-up number: it then sees the higher one and backs off),
 * and removes the generations below its own. The highest generation is never removed.
 *
 * Every file here is opened with O_NONBLOCK and checked to be a regular file after open,
 * so a FIFO planted in the directory cannot hang a command.
 *
 * This module acquires and releases; one file per job beside it: lock-dir.ts (the directory
 * and its names), lock-holder.ts (the holder record), lock-beacon.ts (the liveness socket
 * and its probe), lock-takeover.ts (judging a holder, healing, sweeping, the timeout).
 *
 * Module state lives here and nowhere else: the nonce INSTANCE, the generations held
 * (heldHere) and the in-process queue. It is per module instance, that is per worker
 * thread (each has its own module graph) and per loaded bundle or re-imported copy. That is
 * safe because none of it is trusted beyond the instance that keeps it: only this instance
 * writes its nonce into records, so it alone judges those by heldHere; every other holder,
 * a sibling thread or another copy in this very thread included, is judged by its liveness
 * socket and the pid rules like any other process (docs/adr/0003-thread-identity.md); and
 * the queue only saves contention, since the file lock alone keeps holders apart.
 */











/**
 * This copy of the lock module. A pid is no holder's identity: worker threads share their
 * process's pid and start time (docs/adr/0003-thread-identity.md). What identifies the
 * holder of a generation is the module instance that linked it, and only that instance
 * knows which generations it holds: `heldHere`.
 */
const INSTANCE = randomSuffix(16);
/** The generations this module instance holds now: `<lock dir id>/<generation>`. */
const heldHere = new Set();
const heldKey = (dirId, gen) => `${dirId}/${gen}`;
/** What this instance knows of its holds in one lock directory, for judge(). */
const ownHolds = (dirId) => ({
    instance: INSTANCE,
    holds: (gen) => heldHere.has(heldKey(dirId, gen)),
});
/**
 * Acquisitions by this module instance queue here first, one queue per lock directory
 * (by identity, however its path is spelled), so they do not contend with each other on the
 * files. This only saves work: the file lock alone keeps holders apart, also between
 * threads and module copies, which have queues of their own.
 */
const inProcess = new Map();
/** Acquire the registry lock. Throws RuntimeError after `timeoutMs` behind a live holder. */
async function acquireLock(registryDir, opts = {}) {
    const lockDir = ensureLockDir(registryDir);
    const queue = lockDir.id;
    const prev = inProcess.get(queue) ?? Promise.resolve();
    let unblock;
    const mine = new Promise((resolve) => (unblock = resolve));
    const chain = prev.then(() => mine);
    inProcess.set(queue, chain);
    await prev;
    try {
        const lock = await acquireFileLock(registryDir, lockDir, opts);
        const release = lock.release.bind(lock);
        return {
            generation: lock.generation,
            held: lock.held.bind(lock),
            assertHeld: lock.assertHeld.bind(lock),
            release() {
                try {
                    release();
                }
                finally {
                    unblock();
                    if (inProcess.get(queue) === chain)
                        inProcess.delete(queue);
                }
            },
        };
    }
    catch (err) {
        unblock();
        if (inProcess.get(queue) === chain)
            inProcess.delete(queue);
        throw err;
    }
}
/** The file lock: look, take over what is free or provably dead, else back off and look again. */
async function acquireFileLock(registryDir, lockDir, opts) {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const c = { registryDir, dir: lockDir.dir, dirId: lockDir.id, me: owner_self(), opts };
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    let last;
    let beacon; // undefined: not opened yet
    try {
        for (;;) {
            const before = list(c.dir);
            const look = await lookAt(c, before);
            if (look === 'look-again')
                continue;
            if (look.free) {
                assertNotLastGeneration(c, before.max);
                beacon ??= await openBeacon(c.dir, opts.debug);
                const taken = await take(c, before.max + 1, beacon, look.damaged);
                if (taken === 'lost') {
                    delay = 1; // lost the race: look again at once
                }
                else if (taken !== 'behind') {
                    beacon = undefined; // the lock owns it now
                    return taken;
                }
                continue;
            }
            last = look.last;
            if (Date.now() >= deadline) {
                throw new RuntimeError(timeoutMessage(registryDir, c.dir, last, timeoutMs));
            }
            await (0,promises_namespaceObject.setTimeout)(delay + Math.random() * delay);
            delay = Math.min(delay * 2, 20);
        }
    }
    finally {
        beacon?.close();
    }
}
/** Is the highest generation of `before` free to take, held, or changing under us? */
async function lookAt(c, before) {
    if (before.max === 0 || before.maxDone)
        return { free: true, damaged: undefined };
    const verdict = await judge(c.dir, before.max, ownHolds(c.dirId));
    if (verdict.state === 'look-again')
        return 'look-again';
    if (verdict.state !== 'dead')
        return { free: false, last: { gen: before.max, verdict } };
    c.opts.debug?.(`lock: holder ${verdict.holder ? describeOwner(verdict.holder) : genName(before.max)} is dead; taking over (${verdict.why})`);
    return {
        free: true,
        damaged: verdict.damaged ? { gen: before.max, ...verdict.damaged } : undefined,
    };
}
function assertNotLastGeneration(c, max) {
    if (max >= MAX_GENERATION) {
        throw new RuntimeError(`registry lock in ${c.registryDir} reached its last generation number (${genName(max)}); stop every portlease process on this host, then remove ${c.dir} to start again from 1`);
    }
}
/**
 * Link generation `gen` with this contender's record. 'lost': another contender linked it
 * first; 'behind': it had been cleaned up and someone is ahead; else the lock, which then
 * owns the beacon (after healing a damaged generation and sweeping the older ones).
 */
async function take(c, gen, beacon, damaged) {
    const holder = {
        ...c.me,
        acquired: Date.now(),
        sock: beacon?.name ?? null,
        thread: external_node_worker_threads_namespaceObject.threadId,
        instance: INSTANCE,
    };
    const temp = writeHolderTemp(c.dir, holder);
    const key = heldKey(c.dirId, gen);
    if (!linkGeneration(c.dir, temp, gen, key))
        return 'lost';
    const after = list(c.dir);
    if (after.max > gen) {
        // We recreated a generation that had been cleaned up: someone is ahead of us.
        tryUnlink((0,external_node_path_namespaceObject.join)(c.dir, genName(gen)));
        heldHere.delete(key);
        return 'behind';
    }
    if (damaged !== undefined)
        heal(c.registryDir, damaged, c.opts.warn);
    await cleanup(c.dir, after.names, gen, beacon?.name);
    return makeLock(c.dir, gen, key, c.me, beacon);
}
/** link() the temp record as generation `gen`: true when this contender made it. */
function linkGeneration(dir, temp, gen, key) {
    let won = false;
    try {
        // Known as held here from the instant it exists: judge() trusts heldHere for
        // records of this instance. The beacon listens already (opened before).
        heldHere.add(key);
        (0,external_node_fs_namespaceObject.linkSync)(temp, (0,external_node_path_namespaceObject.join)(dir, genName(gen)));
        won = true;
    }
    catch (err) {
        heldHere.delete(key);
        if (errnoCode(err) !== 'EEXIST') {
            tryUnlink(temp);
            throw err;
        }
    }
    tryUnlink(temp);
    return won;
}
/** The lock on generation `gen`: held while `gen` is the highest; released once. */
function makeLock(dir, gen, key, me, beacon) {
    let released = false;
    const held = () => {
        try {
            return list(dir).max === gen;
        }
        catch {
            return false;
        }
    };
    return {
        generation: gen,
        held,
        assertHeld() {
            if (!held()) {
                throw new RuntimeError(`registry lock was taken over while ${describeOwner(me)}${external_node_worker_threads_namespaceObject.threadId === 0 ? '' : ` (thread ${external_node_worker_threads_namespaceObject.threadId})`} held it; nothing was written`);
            }
        },
        release() {
            if (released)
                return;
            released = true;
            try {
                (0,external_node_fs_namespaceObject.closeSync)((0,external_node_fs_namespaceObject.openSync)((0,external_node_path_namespaceObject.join)(dir, `${genName(gen)}.done`), external_node_fs_namespaceObject.constants.O_WRONLY |
                    external_node_fs_namespaceObject.constants.O_CREAT |
                    external_node_fs_namespaceObject.constants.O_EXCL |
                    external_node_fs_namespaceObject.constants.O_NOFOLLOW |
                    external_node_fs_namespaceObject.constants.O_NONBLOCK, 0o666));
            }
            catch {
                // Could not mark it released (EEXIST cannot happen; ENOSPC or EIO can): the closed
                // beacon below then proves it free to everyone (its socket refuses), and this
                // instance knows it no longer holds it (heldHere).
            }
            heldHere.delete(key);
            beacon?.close();
        },
    };
}

;// CONCATENATED MODULE: ./src/core/probe.ts
/**
 * Can a port be bound right now, and which ports does the kernel keep for itself.
 */


/** Try to listen on `host:port` and close again. Resolves to null when it worked, else the errno code. */
function tryListen(port, host) {
    return new Promise((resolve) => {
        const server = (0,external_node_net_namespaceObject.createServer)();
        server.unref();
        server.once('error', (err) => {
            resolve(err.code ?? 'EUNKNOWN');
        });
        // For '::' no host is passed: Node then binds the IPv6 any-address itself, without the
        // first-use cost (~5 ms) of compiling net.isIPv6's pattern for a host string.
        const where = host === '::' ? { ipv6Only: true } : { host };
        server.listen({ port, exclusive: true, ...where }, () => {
            server.close(() => {
                resolve(null);
            });
        });
    });
}
let ipv6;
/**
 * Does this host have IPv6 at all (can it bind ::1)? Asked once per process. On Linux the
 * loopback's addresses are read from /proc/net/if_inet6 (no socket needed); elsewhere, or
 * when that file cannot be read, by binding ::1.
 */
function hasIPv6() {
    if (ipv6 === undefined) {
        const text = readText('/proc/net/if_inet6');
        ipv6 =
            text !== null
                ? Promise.resolve(/^0{31}1 /m.test(text))
                : tryListen(0, '::1').then((code) => code === null);
    }
    return ipv6;
}
/**
 * Is `port` bindable on every address a server is likely to use: 0.0.0.0, 127.0.0.1 and
 * :: (where the host has IPv6)? Returns null when it is, else a short reason.
 */
async function probePort(port) {
    const hosts = ['0.0.0.0', '127.0.0.1'];
    if (await hasIPv6())
        hosts.push('::');
    // One at a time: binding 0.0.0.0 and 127.0.0.1 at once would make them fail each other.
    for (const host of hosts) {
        const code = await tryListen(port, host);
        if (code !== null)
            return `${host}:${port} ${code}`;
    }
    return null;
}
function readText(path) {
    try {
        return (0,external_node_fs_namespaceObject.readFileSync)(path, 'utf8');
    }
    catch {
        return null;
    }
}
/** Parse "32768\t60999". */
function parseEphemeral(text) {
    if (text === null)
        return null;
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
    if (!m)
        return null;
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    return lo >= 1 && hi <= 65535 && lo <= hi ? { lo, hi } : null;
}
/** Parse "8080,9000-9010". */
function parseReserved(text) {
    if (text === null)
        return [];
    const out = [];
    for (const part of text.trim().split(',')) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
        if (!m)
            continue;
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : Number(m[2]);
        if (lo >= 1 && hi <= 65535 && lo <= hi)
            out.push({ lo, hi });
    }
    return out;
}
/**
 * The kernel's own port ranges. Linux reads /proc; elsewhere the documented defaults
 * (macOS/BSD and Windows hand out 49152-65535).
 */
function kernelPorts(procRoot = '/proc') {
    const text = readText(`${procRoot}/sys/net/ipv4/ip_local_port_range`);
    if (text === null && process.platform !== 'linux') {
        return { ephemeral: { lo: 49152, hi: 65535 }, reserved: [] };
    }
    return {
        ephemeral: parseEphemeral(text),
        reserved: parseReserved(readText(`${procRoot}/sys/net/ipv4/ip_local_reserved_ports`)),
    };
}
function inRange(port, r) {
    return port >= r.lo && port <= r.hi;
}
function formatRange(r) {
    return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}

;// CONCATENATED MODULE: ./src/core/live.ts


class LiveLeases {
    /** The live records by id, in file order. */
    byId = new Map();
    /** Every record claiming each port (more than one only after a conflict). */
    claims = new Map();
    /** Something was reclaimed or trimmed: the state file must be written back. */
    dirty;
    debug;
    constructor(debug, dirty) {
        this.debug = debug;
        this.dirty = dirty;
    }
    /**
     * The view of `state` once conflicts are resolved (`resolved`) and expired records
     * dropped. `rejected`: the read set damaged lines aside, so the file is written back.
     */
    static read(read, resolved, now, debug) {
        const view = new LiveLeases(debug, read.rejected > 0);
        for (const { lease, reason } of resolved.dropped)
            view.reclaimed(lease, reason);
        // A record trimmed of a port an earlier live record holds is written back trimmed.
        if (resolved.kept.some((l) => !read.leases.includes(l)))
            view.dirty = true;
        for (const l of resolved.kept) {
            if (l.expires !== null && Date.parse(l.expires) <= now) {
                view.reclaimed(l, `expired at ${l.expires}`);
                continue;
            }
            view.add(l);
        }
        return view;
    }
    reclaimed(l, why) {
        this.debug(`reclaimed ${l.id} (key ${l.key}): ${why}`);
        this.dirty = true;
    }
    /** Add a live record (at the end of the file) and its ports' claims. */
    add(l) {
        this.byId.set(l.id, l);
        this.claim(l);
    }
    /** Replace a record in its place in the file (a renewed or grown lease: same id). */
    replace(old, next) {
        this.unclaim(old);
        this.byId.set(next.id, next); // an existing key keeps its place in the Map
        this.claim(next);
        this.dirty = true;
    }
    /** Drop a record found dead: its ports are free again, and the file is written back. */
    drop(l, why) {
        this.byId.delete(l.id);
        this.unclaim(l);
        this.reclaimed(l, why);
    }
    claim(l) {
        for (const p of Object.values(l.ports))
            this.claims.set(p, [...this.claimsOf(p), l]);
    }
    unclaim(l) {
        for (const p of Object.values(l.ports)) {
            const rest = this.claimsOf(p).filter((h) => h !== l);
            if (rest.length > 0)
                this.claims.set(p, rest);
            else
                this.claims.delete(p);
        }
    }
    /** The records claiming port `p` (usually none or one). */
    claimsOf(p) {
        return this.claims.get(p) ?? [];
    }
    /** The live record with this key, if any. */
    withKey(key) {
        for (const l of this.byId.values())
            if (l.key === key)
                return l;
        return undefined;
    }
    /** The records to write, in file order. */
    records() {
        return [...this.byId.values()];
    }
    /** Who holds ports in `range`, for the error when it is full (at most five named). */
    describeHolders(range) {
        const inside = this.records().filter((l) => Object.values(l.ports).some((p) => inRange(p, range)));
        if (inside.length === 0)
            return 'every port in it is in use outside the registry or reserved by the kernel';
        const shown = inside.slice(0, 5).map((l) => {
            const ports = Object.values(l.ports).filter((p) => inRange(p, range));
            return `${l.id} key ${JSON.stringify(l.key)} (${ports.join(',')}; owner ${describeOwner(l.owner)}${l.expires ? `, expires ${l.expires}` : ''})`;
        });
        const more = inside.length > 5 ? `, and ${inside.length - 5} more` : '';
        return `held by ${inside.length} lease${inside.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`;
    }
}

;// CONCATENATED MODULE: ./src/core/request.ts
/**
 * An allocate request: what a caller may ask for, and its complete check before anything on
 * disk is touched (bad input never changes the registry; every error is one line naming the
 * input and what would be accepted).
 */





/**
 * Check a request completely, before anything on disk is touched: its names, key and TTL
 * (a lease without an owner needs one), the registry path `dir`, and a range that holds
 * enough ports outside the kernel's ephemeral and reserved ones (`kernel`, else this host's).
 */
function checkRequest(req, dir, kernel) {
    const names = checkNames(req.names, 'names');
    const range = req.range ?? DEFAULT_RANGE;
    if (req.key !== undefined)
        checkKey(req.key, 'key');
    if ((req.ttlMs === null || req.ttlMs === undefined) && req.owner === null) {
        throw new errors_UsageError('ttl: a lease without an owner needs a TTL; give --ttl or an owner');
    }
    if (req.ttlMs !== null && req.ttlMs !== undefined && !(req.ttlMs > 0)) {
        throw new errors_UsageError('ttl: must be longer than 0');
    }
    checkRegistryPath(dir);
    const host = kernel ?? kernelPorts();
    const excluded = (p) => {
        if (!req.allowEphemeral && host.ephemeral && inRange(p, host.ephemeral)) {
            return 'ephemeral';
        }
        return host.reserved.some((r) => inRange(p, r)) ? 'reserved' : null;
    };
    const span = range.hi - range.lo + 1;
    const usable = span -
        excludedCount(range, [
            ...(!req.allowEphemeral && host.ephemeral ? [host.ephemeral] : []),
            ...host.reserved,
        ]);
    if (usable === 0) {
        const eph = host.ephemeral ? formatRange(host.ephemeral) : 'none';
        throw new errors_UsageError(`range: ${formatRange(range)} lies wholly inside the kernel's ephemeral (${eph}) or reserved ports; choose a range outside them, like ${formatRange(DEFAULT_RANGE)}`);
    }
    if (usable < names.length || span < names.length) {
        throw new errors_UsageError(`range: ${formatRange(range)} has ${usable} usable port${usable === 1 ? '' : 's'} (outside the kernel's ephemeral and reserved ports), fewer than the ${names.length} asked for`);
    }
    return { names, range, strategy: req.strategy ?? 'hash', key: req.key, excluded };
}
/** How many ports of `range` lie in the union of `excluded` ranges. */
function excludedCount(range, excluded) {
    const parts = excluded
        .map((r) => ({ lo: Math.max(r.lo, range.lo), hi: Math.min(r.hi, range.hi) }))
        .filter((r) => r.lo <= r.hi)
        .sort((a, b) => a.lo - b.lo);
    let count = 0;
    let upTo = range.lo - 1; // ports <= upTo are counted already
    for (const r of parts) {
        const lo = Math.max(r.lo, upTo + 1);
        if (lo <= r.hi)
            count += r.hi - lo + 1;
        upTo = Math.max(upTo, r.hi);
    }
    return count;
}
/**
 * Labels are informational (run, job, runner): keep the ones that fit the record format
 * (key: letters, digits, . _ -, up to 64; value: up to 512 characters, control characters
 * replaced by spaces), at most 32, rather than refuse a lease over a job's odd name.
 */
function cleanLabels(labels) {
    const out = [];
    for (const [k, v] of Object.entries(labels)) {
        if (!LABEL_KEY.test(k) || out.length >= 32)
            continue;
        out.push([k, withoutControlChars(v).slice(0, 512)]);
    }
    return Object.fromEntries(out);
}
/** The new lease record an allocate request makes, with the ports chosen for its names. */
function newLease(id, key, names, ports, req, range, now) {
    return writableLease({
        id,
        key,
        ports: Object.fromEntries(names.map((n, i) => [n, ports[i]])),
        range: { lo: range.lo, hi: range.hi },
        contiguous: req.contiguous === true,
        owner: req.owner,
        created: new Date(now).toISOString(),
        expires: req.ttlMs === null || req.ttlMs === undefined
            ? null
            : new Date(now + req.ttlMs).toISOString(),
        labels: cleanLabels(req.labels ?? {}),
    });
}

;// CONCATENATED MODULE: ./src/core/reuse.ts
/**
 * A lease asked for again by its key while it lives: handed back as it is, renewed (a new
 * expiry or owner when the caller gave one explicitly), grown by names it lacks (its ports
 * kept), or refused with one line when it cannot satisfy what was asked (nothing written).
 */





function showPorts(ports) {
    return ports.map(([n, p]) => `${n}=${p}`).join(', ');
}
/**
 * A live lease asked for again by its key: check what was asked explicitly against it,
 * grow it by names it lacks, renew its expiry or owner when asked. Returns `same` itself
 * when nothing changes. Throws (nothing written) when the lease cannot satisfy the request.
 */
async function reuseLease(same, req, v, usable, now) {
    const held = Object.entries(same.ports);
    const release = `release it first (portlease release --key ${JSON.stringify(same.key)}) or use another key`;
    const holds = `key ${JSON.stringify(same.key)} is held by lease ${same.id}`;
    if (req.range !== undefined) {
        const outside = held.filter(([, p]) => !inRange(p, v.range));
        if (outside.length > 0) {
            throw new RuntimeError(`${holds}, whose ${showPorts(outside)} ${outside.length === 1 ? 'lies' : 'lie'} outside the requested range ${formatRange(v.range)}; ${release}`);
        }
    }
    if (req.contiguous === true && !isBlock(held.map(([, p]) => p))) {
        throw new RuntimeError(`${holds}, whose ports (${showPorts(held)}) are not one block of consecutive ports as --contiguous asks; ${release}`);
    }
    const added = v.names.filter((n) => !Object.hasOwn(same.ports, n));
    let ports = same.ports;
    let range = same.range;
    if (added.length > 0) {
        const from = req.range !== undefined ? v.range : same.range;
        const old = held.map(([, p]) => p);
        const chosen = req.contiguous === true
            ? await extendBlock(old, added.length, from, usable)
            : await choosePorts({
                count: added.length,
                range: from,
                contiguous: false,
                start: startPort(from, v.strategy, same.key),
                usable,
            });
        if (chosen === null) {
            throw new RuntimeError(`${holds}; it cannot grow by ${added.join(', ')}: range ${formatRange(from)} has no ${added.length} free port${added.length === 1 ? '' : 's'}${req.contiguous === true ? ' next to its block' : ''}; ${release}`);
        }
        ports = Object.fromEntries([
            ...held,
            ...added.map((n, i) => [n, chosen[i]]),
        ]);
        range = { lo: Math.min(range.lo, from.lo), hi: Math.max(range.hi, from.hi) };
    }
    const owner = req.renew?.owner === true ? req.owner : same.owner;
    let expires = same.expires;
    const ttl = req.ttlMs ?? null;
    if (ttl !== null && (req.renew?.ttl === true || (owner === null && expires === null))) {
        expires = new Date(now + ttl).toISOString();
    }
    if (added.length === 0 && sameOwner(owner, same.owner) && expires === same.expires) {
        return same;
    }
    const lease = freezeLease({
        ...same,
        ports,
        range,
        contiguous: (same.contiguous || req.contiguous === true) && isBlock(Object.values(ports)),
        owner,
        expires,
    });
    const check = validateLease(JSON.parse(JSON.stringify(lease)));
    if (typeof check === 'string')
        throw new errors_UsageError(`lease: ${check}`);
    return lease;
}

;// CONCATENATED MODULE: ./src/core/wait.ts
/**
 * Waiting for a release: until the registry directory changes (fs.watch, where the platform
 * has it) or a poll interval passes, whichever comes first. The poll doubles from 50 ms to
 * 1 s, so a watch that misses an event (network file systems, some containers) costs at
 * most a second.
 */


class DirWaiter {
    dir;
    watcher;
    changed;
    pollMs = 50;
    constructor(dir) {
        this.dir = dir;
    }
    /** Resolves on the next change in the directory, or after the poll interval (at most `maxMs`). */
    async wait(maxMs) {
        if (this.watcher === undefined) {
            try {
                this.watcher = (0,external_node_fs_namespaceObject.watch)(this.dir, { persistent: false }, () => this.changed?.());
            }
            catch {
                // no watch support here: polling alone
            }
        }
        const ac = new AbortController();
        const woke = new Promise((resolve) => {
            this.changed = () => {
                ac.abort();
                resolve();
            };
        });
        await Promise.race([
            woke,
            (0,promises_namespaceObject.setTimeout)(Math.min(this.pollMs, maxMs), undefined, { signal: ac.signal }).catch(() => undefined),
        ]);
        this.changed = undefined;
        ac.abort();
        this.pollMs = Math.min(this.pollMs * 2, 1000);
    }
    close() {
        this.watcher?.close();
        this.watcher = undefined;
    }
}

;// CONCATENATED MODULE: ./src/core/registry.ts
/**
 * The lease registry: allocate, update, release, list and gc, each a read-modify-write of the
 * state file under the host-wide lock. Pure Node; knows nothing of GitHub or containers (the
 * engines come in through two hooks of RegistryOptions).
 */















/** Commits in a row that may be lost (the lock moved on while they were written) before an operation fails. */
const MAX_LOST_COMMITS = 3;
class Registry {
    dir;
    opts;
    /** The state file as this registry reads, writes and remembers it (cache.ts); its own. */
    disk;
    constructor(dir = defaultRegistryDir(), opts = {}) {
        this.dir = dir;
        this.opts = opts;
        this.disk = new StateCache(dir, opts);
    }
    debug(msg) {
        this.opts.debug?.(msg);
    }
    /** Why a lease is no longer live, or null while it lives. */
    async deadReason(lease, now, cache) {
        if (lease.expires !== null && Date.parse(lease.expires) <= now) {
            return `expired at ${lease.expires}`;
        }
        if ((await this.liveness(lease, cache)) !== 'dead')
            return null;
        return `owner ${describeOwner(lease.owner)} is gone`;
    }
    async liveness(lease, cache) {
        const owner = lease.owner;
        if (owner === null)
            return 'alive';
        if (owner.kind === 'container') {
            return this.opts.containerLiveness ? this.opts.containerLiveness(owner) : 'unknown';
        }
        return ownerLiveness(owner, cache, lease.id);
    }
    /** Records claiming one port or key, resolved for the live ones as of `now` (conflicts.ts). */
    resolve(leases, now, cache) {
        return resolveConflicts(leases, (l) => this.deadReason(l, now, cache), this.opts);
    }
    async allocate(req) {
        const v = checkRequest(req, this.dir, this.opts.kernel);
        const dirId = openRegistryDir(this.dir);
        const waitMs = req.waitMs ?? 0;
        const deadline = Date.now() + waitMs;
        const waiter = new DirWaiter(this.dir);
        let lost = 0;
        try {
            for (;;) {
                // Asked before taking the lock: the engine's answer does not depend on the registry,
                // and other allocators should not queue behind it.
                const [busyList] = await Promise.all([
                    this.opts.busyPorts ? this.opts.busyPorts() : [],
                    hasIPv6(), // warm up what the probes need, outside the lock
                ]);
                const busy = new Set(busyList);
                // Every round: a directory swapped for a symlink while this waited is refused.
                checkSameDir(this.dir, dirId);
                const outcome = await this.tryAllocate(req, v, busy, dirId);
                if (outcome.allocation)
                    return outcome.allocation;
                if (outcome.unconfirmed) {
                    // The lock moved on while this committed: hand the lease out only if that very
                    // record is in the registry now, else allocate again (a bounded number of times).
                    const { lease } = outcome.unconfirmed;
                    if (await this.confirm(lease, dirId))
                        return outcome.unconfirmed;
                    lost = this.lostCommit(lost, `lease ${lease.id} (key ${lease.key})`);
                    this.opts.warn?.(`registry: the lock was taken over while lease ${lease.id} was written, and it is not in the registry; allocating again`);
                    continue;
                }
                const left = deadline - Date.now();
                if (left <= 0) {
                    throw new RuntimeError(`range ${formatRange(v.range)} has no ${v.names.length} free port${v.names.length === 1 ? '' : 's'}${req.contiguous ? ' in a row' : ''}${waitMs > 0 ? ` after waiting ${formatDuration(waitMs)}` : ''}; ${outcome.holders}`);
                }
                this.debug(`range full; waiting up to ${Math.ceil(left / 1000)}s for a release`);
                await waiter.wait(left);
            }
        }
        finally {
            waiter.close();
        }
    }
    async withLock(dirId, fn) {
        let lock;
        try {
            lock = await acquireLock(this.dir, {
                timeoutMs: this.opts.lockTimeoutMs,
                warn: this.opts.warn,
                debug: this.opts.debug,
            });
        }
        catch (err) {
            throw err instanceof PortleaseError ? err : registryError(this.dir, err);
        }
        try {
            checkSameDir(this.dir, dirId);
            return await fn(lock);
        }
        finally {
            lock.release();
        }
    }
    /**
     * After a commit the lock had moved on from: is exactly this record (same id, ports,
     * owner, expiry) in the registry now? A grown or renewed lease whose write was lost is
     * not: the record there is the old one.
     */
    async confirm(lease, dirId) {
        const text = canonical(lease);
        return this.withLock(dirId, (lock) => {
            const state = this.disk.read(lock);
            return Promise.resolve(state.leases.some((l) => l.id === lease.id && canonical(l) === text));
        });
    }
    /**
     * Count one commit that did not land (the lock moved on while it was written). A
     * takeover needs proof that the holder died, so this happens only when something on the
     * host breaks the lock protocol: after MAX_LOST_COMMITS in a row the operation fails with
     * one line instead of trying for ever. Returns the new count.
     */
    lostCommit(lost, what) {
        const n = lost + 1;
        if (n >= MAX_LOST_COMMITS) {
            throw new RuntimeError(`registry ${this.dir}: the lock was taken over while each of ${n} writes of ${what} landed, so none is known to be in the registry; giving up (is a process on this host removing lock files, or running a broken portlease?)`);
        }
        this.debug(`lock generation moved on while ${what} was written; trying again (${n})`);
        return n;
    }
    /**
     * One read-modify-write under the lock that must land: `fn` returns its result and
     * whether its write landed (`StateCache.write`), or landed: true when it wrote nothing.
     * A lost write is done again from a fresh read, at most MAX_LOST_COMMITS times.
     */
    async commit(dirId, what, fn) {
        let lost = 0;
        for (;;) {
            const r = await this.withLock(dirId, fn);
            if (r.landed)
                return r.value;
            lost = this.lostCommit(lost, what);
        }
    }
    /**
     * One allocation round under the lock: the key's live lease handed back (renewed or
     * grown), else new ports chosen. `holders` describes who holds the range when it is full.
     */
    async tryAllocate(req, v, busy, dirId) {
        return this.withLock(dirId, async (lock) => {
            const now = Date.now();
            const cache = new OwnerCache();
            const state = this.disk.read(lock);
            const live = LiveLeases.read(state, await this.resolve(state.leases, now, cache), now, (m) => {
                this.debug(m);
            });
            const usable = this.usablePorts(live, v, busy, now, cache);
            const same = v.key === undefined ? undefined : live.withKey(v.key);
            if (same !== undefined) {
                const dead = await this.deadReason(same, now, cache);
                if (dead === null)
                    return this.handBack(lock, live, same, req, v, usable, now);
                live.drop(same, dead);
            }
            return this.leaseNew(lock, live, req, v, usable, now);
        });
    }
    /**
     * Can port `p` be handed out in this round? Not when the request excludes it, a live
     * lease claims it (dead claimants are dropped on the way), a container engine publishes
     * it, or a probe finds it in use outside the registry.
     */
    usablePorts(live, v, busy, now, cache) {
        return async (p) => {
            if (v.excluded(p) !== null)
                return false;
            for (const h of live.claimsOf(p)) {
                const dead = await this.deadReason(h, now, cache);
                if (dead === null)
                    return false;
                live.drop(h, dead);
            }
            if (busy.has(p)) {
                this.debug(`port ${p}: published by a container engine`);
                return false;
            }
            const why = await probePort(p);
            if (why !== null)
                this.debug(`port ${p}: in use outside the registry (${why})`);
            return why === null;
        };
    }
    /** The key's live lease `same`, handed back as it is, renewed or grown (reuse.ts). */
    async handBack(lock, live, same, req, v, usable, now) {
        const next = await reuseLease(same, req, v, usable, now);
        if (next !== same)
            live.replace(same, next);
        const allocation = { lease: next, reused: true };
        // A grown or renewed record is handed out only once it is on disk.
        if (live.dirty && !this.disk.write(lock, live.records())) {
            return { unconfirmed: allocation, holders: '' };
        }
        this.debug(next === same
            ? `key ${same.key} already holds ${same.id}: handing it back`
            : `key ${same.key} holds ${same.id}: renewed or grown`);
        return { allocation, holders: '' };
    }
    /** New ports chosen in the range, written as a new lease. */
    async leaseNew(lock, live, req, v, usable, now) {
        const key = v.key ?? newLeaseId().replace(/^pl_/, 'anon-');
        const chosen = await choosePorts({
            count: v.names.length,
            range: v.range,
            contiguous: req.contiguous === true,
            start: startPort(v.range, v.strategy, key),
            usable,
        });
        if (chosen === null) {
            // Only reclaimed records to write: if that is lost, the next round reclaims them again.
            if (live.dirty)
                this.disk.write(lock, live.records());
            return { holders: live.describeHolders(v.range) };
        }
        let id = newLeaseId();
        while (live.byId.has(id))
            id = newLeaseId();
        const lease = newLease(id, key, v.names, chosen, req, v.range, now);
        live.add(lease);
        if (!this.disk.write(lock, live.records())) {
            return { unconfirmed: { lease, reused: false }, holders: '' };
        }
        this.debug(`leased ${lease.id} (key ${key}): ${Object.entries(lease.ports)
            .map(([n, p]) => `${n}=${p}`)
            .join(' ')}`);
        return { allocation: { lease, reused: false }, holders: '' };
    }
    /**
     * Change lease `id` in place: a new owner (exec, once its command's session exists) and/or
     * a new expiry `ttlMs` from now (exec's heartbeat). Returns the new record, or null when no
     * such lease is left (it is never brought back).
     */
    async update(id, changes) {
        checkRegistryPath(this.dir);
        const dirId = openRegistryDir(this.dir);
        return this.commit(dirId, `the update of lease ${id}`, (lock) => {
            const state = this.disk.read(lock);
            const found = state.leases.find((l) => l.id === id);
            if (!found) {
                // Only damage to drop: a lost write of that is dropped again by the next writer.
                if (state.rejected > 0)
                    this.disk.write(lock, state.leases);
                return Promise.resolve({ value: null, landed: true });
            }
            const lease = writableLease({
                ...found,
                owner: changes.owner === undefined ? found.owner : changes.owner,
                expires: changes.ttlMs === undefined
                    ? found.expires
                    : new Date(Date.now() + changes.ttlMs).toISOString(),
            });
            const landed = this.disk.write(lock, state.leases.map((l) => (l === found ? lease : l)));
            return Promise.resolve({ value: lease, landed });
        });
    }
    /** Release a lease by key or id. Returns it, or null when there was none (not an error). */
    async release(sel) {
        if ('key' in sel)
            checkKey(sel.key, 'key');
        checkRegistryPath(this.dir);
        const dirId = openRegistryDir(this.dir);
        const matches = (l) => ('key' in sel ? l.key === sel.key : l.id === sel.lease);
        const what = 'key' in sel ? `the release of key ${sel.key}` : `the release of ${sel.lease}`;
        /** The lease a round found: a later round after a lost write may find it gone. */
        let released = null;
        return this.commit(dirId, what, (lock) => {
            const state = this.disk.read(lock);
            const found = state.leases.find(matches) ?? null;
            released ??= found;
            if (!found && state.rejected === 0)
                return Promise.resolve({ value: released, landed: true });
            const landed = this.disk.write(lock, state.leases.filter((l) => l !== found));
            if (found && landed)
                this.debug(`released ${found.id} (key ${found.key})`);
            return Promise.resolve({ value: released, landed });
        });
    }
    /** Live leases, without taking the lock (every write is atomic, so a read sees a whole state). */
    async list() {
        return (await this.listState()).leases;
    }
    /** Live leases, and whether the read found damage (then the list may miss some). */
    async listState() {
        checkRegistryPath(this.dir);
        const state = this.disk.peek();
        const now = Date.now();
        const cache = new OwnerCache();
        const out = [];
        const { kept } = await this.resolve(state.leases, now, cache);
        for (const lease of kept) {
            if ((await this.deadReason(lease, now, cache)) !== null)
                continue;
            out.push({ lease, liveness: await this.liveness(lease, cache) });
        }
        return { leases: out, damaged: state.rejected > 0 };
    }
    /** Remove every lease that is no longer live; with dryRun, only say which. */
    async gc(opts = {}) {
        checkRegistryPath(this.dir);
        const sweep = async (leases) => {
            const now = Date.now();
            const cache = new OwnerCache();
            const { kept, dropped } = await this.resolve(leases, now, cache);
            const removed = [...dropped];
            const live = [];
            for (const lease of kept) {
                const reason = await this.deadReason(lease, now, cache);
                if (reason === null)
                    live.push(lease);
                else
                    removed.push({ lease, reason });
            }
            return { removed, live, trimmed: kept.some((l) => !leases.includes(l)) };
        };
        if (opts.dryRun) {
            const state = this.disk.peek();
            const { removed, live } = await sweep(state.leases);
            return { removed, live, temps: 0, damaged: state.rejected > 0 };
        }
        const dirId = openRegistryDir(this.dir);
        return this.commit(dirId, 'gc', async (lock) => {
            const state = this.disk.read(lock);
            const { trimmed, ...result } = await sweep(state.leases);
            const landed = result.removed.length > 0 || trimmed || state.rejected > 0
                ? this.disk.write(lock, result.live)
                : true;
            const value = {
                ...result,
                temps: landed ? sweepTemps(this.dir, STATE_FILE) : 0,
                damaged: state.rejected > 0,
            };
            return { value, landed };
        });
    }
}

;// CONCATENATED MODULE: ./src/core/index.ts
/**
 * The core's public face: what the layers above (engines, runner, shells) import from
 * `src/registry`. Re-exports only; each module holds one responsibility (docs/architecture.md).
 */








;// CONCATENATED MODULE: ./src/core/bind.ts
/**
 * Listening on a leased port while the lease is held: the part `portlease exec --listen`
 * (src/cli) and the library's `listen()` (src/lib) share. Which address (a literal IP of
 * this host, checked before any lease is taken) and how a server is bound (exclusively,
 * with one error that names the address and the errno).
 */



/** The listen host when none is given. */
const DEFAULT_LISTEN_HOST = '127.0.0.1';
const ACCEPTED_HOSTS = 'use 127.0.0.1 (the default), 0.0.0.0, ::, ::1 or another IP address of this host';
/** `host:port`, with brackets around an IPv6 address. */
function showAddress(host, port) {
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
/**
 * A listen host: a literal IPv4 or IPv6 address (no names: a name may resolve to several
 * addresses, or to another one tomorrow). Whether it is an address of this host is
 * checkListenHost's question.
 */
function parseListenHost(text, label) {
    const t = text.trim();
    if ((0,external_node_net_namespaceObject.isIP)(t) !== 0)
        return t;
    throw new errors_UsageError(`${label}: ${JSON.stringify(t.slice(0, 60))} is not an IP address; ${ACCEPTED_HOSTS}`);
}
/**
 * Can this host listen on `host` at all? Binds a throwaway socket on port 0 there, so that a
 * host that is not local (EADDRNOTAVAIL) or an address family the host lacks is a
 * UsageError before any lease is taken.
 */
async function checkListenHost(host, label) {
    const code = await tryListen(0, host);
    if (code !== null) {
        throw new errors_UsageError(`${label}: cannot listen on ${host} (${code}${code === 'EADDRNOTAVAIL' ? ': not an address of this host' : ''}); ${ACCEPTED_HOSTS}`);
    }
}
/**
 * `server.listen()` on `port` at `host`, exclusively (never shared with cluster workers).
 * Rejects with a ListenError naming the address and the errno. The listeners it adds are
 * removed either way, so a server given by a caller keeps only its own.
 */
function bindServer(server, port, host, opts) {
    return new Promise((resolve, reject) => {
        const onError = (err) => {
            server.off('listening', onListening);
            const code = err.code ?? 'EUNKNOWN';
            const why = code === 'EADDRINUSE'
                ? ': a process outside the registry holds it'
                : code === 'EADDRNOTAVAIL'
                    ? ': not an address of this host'
                    : code === 'EACCES'
                        ? ': permission denied'
                        : '';
            reject(new ListenError(`${opts.label}: cannot listen on ${showAddress(host, port)} (${code}${why})`, { code, host, port }));
        };
        const onListening = () => {
            server.off('error', onError);
            resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen({
            port,
            host,
            exclusive: true,
            ...(opts.backlog === undefined ? {} : { backlog: opts.backlog }),
            ...(opts.ipv6Only === true ? { ipv6Only: true } : {}),
        });
    });
}
/** Close a server and wait for its 'close' (its connections ended). A closed one is done. */
function closeServer(server) {
    return new Promise((resolve) => {
        if (!server.listening) {
            resolve();
            return;
        }
        server.close(() => {
            resolve();
        });
    });
}

;// CONCATENATED MODULE: ./package.json
const package_namespaceObject = {"rE":"1.0.0"};
;// CONCATENATED MODULE: ./src/version.ts

const VERSION = package_namespaceObject.rE;

;// CONCATENATED MODULE: ./src/engines/command.ts
/**
 * Running an engine's CLI: finding it on PATH without starting a process, and running it
 * with an argv array (never a shell), bounded by a timeout.
 */


/** A program on PATH, or null; no process is started to find out. */
function findOnPath(program, env = process.env) {
    for (const dir of (env.PATH ?? '').split(external_node_path_namespaceObject.delimiter)) {
        if (dir === '')
            continue;
        const file = (0,external_node_path_namespaceObject.join)(dir, program);
        try {
            (0,external_node_fs_namespaceObject.accessSync)(file, external_node_fs_namespaceObject.constants.X_OK);
            if ((0,external_node_fs_namespaceObject.statSync)(file).isFile())
                return file;
        }
        catch {
            // not here
        }
    }
    return null;
}
/**
 * Run `file args` (never a shell); a timeout kills it (exit 124), a missing file is 127.
 * node:child_process is loaded when first needed: it costs several milliseconds at start-up,
 * which every `portlease` command would pay otherwise.
 */
async function command_runCommand(file, args, timeoutMs, env) {
    const { execFile } = await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 421, 23));
    return new Promise((resolve) => {
        execFile(file, args, { timeout: timeoutMs ?? 0, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env }, (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof err.code === 'number' ? err.code : err.killed ? 124 : 127;
            resolve({ code, stdout, stderr });
        });
    });
}

;// CONCATENATED MODULE: ./src/engines/docker-api.ts
/**
 * Docker's API on its unix socket: which socket to use (DOCKER_HOST=unix://... or
 * /var/run/docker.sock, none under a DOCKER_CONTEXT or a tcp:// host), and one request.
 */

/** The Docker API socket to use, or null (then the CLI, if any). */
function dockerSocket(env) {
    if (env.DOCKER_CONTEXT !== undefined && env.DOCKER_CONTEXT !== '')
        return null;
    const host = env.DOCKER_HOST;
    let path = '/var/run/docker.sock';
    if (host !== undefined && host !== '') {
        if (!host.startsWith('unix://'))
            return null;
        path = host.slice('unix://'.length);
    }
    try {
        return (0,external_node_fs_namespaceObject.statSync)(path).isSocket() ? path : null;
    }
    catch {
        return null;
    }
}
/**
 * One request to the API: its status and body (the first 16 MiB). node:http is loaded when
 * first needed: it costs several milliseconds at start-up, which every `portlease` command
 * would pay otherwise.
 */
async function dockerApi(socketPath, method, path, timeoutMs) {
    const { request } = await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 67, 23));
    return new Promise((resolve, reject) => {
        const req = request({ socketPath, method, path, headers: { Host: 'docker' }, timeout: timeoutMs }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
                if (body.length < 16 * 1024 * 1024)
                    body += d;
            });
            res.on('end', () => {
                const status = res.statusCode ?? 0;
                resolve({ ok: status >= 200 && status < 300, status, body });
            });
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end();
    });
}

;// CONCATENATED MODULE: ./src/engines/ps.ts
/**
 * Container lists as the engines give them (`docker ps`, Docker's API, `podman ps`),
 * normalised to ContainerInfo, and the look into rootful podman's store that spares starting
 * podman when it holds no container.
 */



function validPort(n) {
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}
function stringRecord(v) {
    const out = {};
    if (!isRecord(v))
        return out;
    for (const [k, val] of Object.entries(v))
        if (typeof val === 'string')
            out[k] = val;
    return out;
}
/** Host TCP ports out of a `docker ps` Ports column: `127.0.0.1:8080->80/tcp, :::8000-8002->8000-8002/tcp`. */
function parsePortsColumn(text) {
    const out = [];
    for (const part of text.split(',')) {
        const m = /:(\d{1,5})(?:-(\d{1,5}))?->[^/]*\/(\w+)\s*$/.exec(part.trim());
        if (!m || m[3] !== 'tcp')
            continue;
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : Number(m[2]);
        for (let p = lo; p <= hi && p - lo < 65536; p++)
            if (validPort(p))
                out.push(p);
    }
    return out;
}
/** `docker ps --format '{{json .}}'` lines, normalised. */
function parseDockerPsLines(stdout) {
    const out = [];
    for (const line of stdout.split('\n')) {
        if (line.trim() === '')
            continue;
        const row = JSON.parse(line);
        if (!isRecord(row))
            continue;
        const labels = {};
        if (typeof row.Labels === 'string') {
            for (const kv of row.Labels.split(',')) {
                const i = kv.indexOf('=');
                if (i > 0)
                    labels[kv.slice(0, i)] = kv.slice(i + 1);
            }
        }
        out.push({
            engine: 'docker',
            id: typeof row.ID === 'string' ? row.ID : '',
            name: typeof row.Names === 'string' ? (row.Names.split(',')[0] ?? '') : '',
            running: row.State === 'running',
            labels,
            hostPorts: typeof row.Ports === 'string' ? parsePortsColumn(row.Ports) : [],
        });
    }
    return out;
}
/** The Docker API's `GET /containers/json` rows, normalised. */
function parseDockerApiRows(body) {
    const rows = JSON.parse(body);
    if (!Array.isArray(rows))
        throw new Error('docker API: not a list of containers');
    return rows.filter(isRecord).map((r) => {
        const ports = Array.isArray(r.Ports) ? r.Ports.filter(isRecord) : [];
        const names = Array.isArray(r.Names) ? r.Names : [];
        return {
            engine: 'docker',
            id: typeof r.Id === 'string' ? r.Id : '',
            name: typeof names[0] === 'string' ? names[0].replace(/^\//, '') : '',
            running: r.State === 'running',
            labels: stringRecord(r.Labels),
            hostPorts: ports
                .filter((p) => p.Type === 'tcp' && validPort(p.PublicPort))
                .map((p) => p.PublicPort),
        };
    });
}
/** `podman ps --format json`, normalised. */
function parsePodmanPs(stdout) {
    const rows = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
    if (!Array.isArray(rows))
        throw new Error('podman ps: not a list of containers');
    return rows.filter(isRecord).map((row) => {
        const hostPorts = [];
        for (const p of Array.isArray(row.Ports) ? row.Ports.filter(isRecord) : []) {
            if (p.protocol !== undefined && p.protocol !== 'tcp')
                continue;
            if (!validPort(p.host_port))
                continue;
            const range = typeof p.range === 'number' && p.range > 1 ? Math.min(p.range, 65536) : 1;
            for (let i = 0; i < range && p.host_port + i <= 65535; i++)
                hostPorts.push(p.host_port + i);
        }
        const names = Array.isArray(row.Names) ? row.Names : [];
        return {
            engine: 'podman',
            id: typeof row.Id === 'string' ? row.Id : '',
            name: typeof names[0] === 'string' ? names[0] : '',
            running: row.State === 'running',
            labels: stringRecord(row.Labels),
            hostPorts,
        };
    });
}
/**
 * true when rootful podman's store provably holds no container: every
 * `<graphroot>/<driver>-containers/containers.json` is an empty list. Anything unexpected
 * (not root, another graphroot that cannot be read, a file that does not parse) is false, so
 * podman itself is asked. Starting podman costs tens of milliseconds.
 */
function podmanStoreEmpty(env = process.env) {
    if (process.getuid?.() !== 0)
        return false;
    let graphroot = '/var/lib/containers/storage';
    try {
        const conf = (0,external_node_fs_namespaceObject.readFileSync)(env.CONTAINERS_STORAGE_CONF ?? '/etc/containers/storage.conf', 'utf8');
        const m = /^\s*graphroot\s*=\s*"([^"]+)"/m.exec(conf);
        if (m?.[1] !== undefined)
            graphroot = m[1];
    }
    catch {
        // no storage.conf: podman's default graphroot
    }
    try {
        const stores = (0,external_node_fs_namespaceObject.readdirSync)(graphroot).filter((n) => n.endsWith('-containers'));
        if (stores.length === 0)
            return !(0,external_node_fs_namespaceObject.existsSync)((0,external_node_path_namespaceObject.join)(graphroot, 'libpod'));
        return stores.every((d) => {
            const list = JSON.parse((0,external_node_fs_namespaceObject.readFileSync)((0,external_node_path_namespaceObject.join)(graphroot, d, 'containers.json'), 'utf8'));
            return Array.isArray(list) && list.length === 0;
        });
    }
    catch (err) {
        // No store at all yet: podman has never made a container here.
        return err.code === 'ENOENT' && !(0,external_node_fs_namespaceObject.existsSync)(graphroot);
    }
}

;// CONCATENATED MODULE: ./src/engines/engine.ts
/**
 * The one adapter for container engines (Docker, Podman). Everything portlease asks of an
 * engine goes through `ContainerEngine`: the core's hooks (host ports the engines publish,
 * whether a job container still runs), `portlease gc` (orphan service containers), the
 * container step and `portlease service` (run, inspect, health, logs, remove).
 *
 * Docker is asked through its API on the unix socket (`DOCKER_HOST=unix://...` or
 * /var/run/docker.sock) for the cheap queries when that socket exists, else through the
 * `docker` CLI (which also covers contexts and tcp:// hosts). Podman is asked through its
 * CLI. Nothing is ever run through a shell: every command is an argv array.
 *
 * Pure Node; no @actions/* import: the shells log what they want to show. Beside it:
 * command.ts (running the CLI), docker-api.ts (the API socket), ps.ts (container lists).
 */





const ENGINES = ['docker', 'podman'];
/** The label every portlease service container carries: its lease id. */
const LEASE_LABEL = 'portlease.lease';
/** ...and the registry directory (absolute) that lease lives in. */
const REGISTRY_LABEL = 'portlease.registry';
/** A container id as the engines print it. */
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;
const DEFAULT_TIMEOUT_MS = 3000;
const REMOVE_TIMEOUT_MS = 30_000;
/** Does an engine's stderr say the container does not exist? */
const NO_SUCH = /no such (container|object)/i;
/** One container engine: Docker (API socket and/or CLI) or Podman (CLI). */
class ContainerEngine {
    name;
    /** The CLI, or null when only Docker's API socket is there (queries only). */
    cli;
    socket;
    timeoutMs;
    env;
    constructor(name, cli, socket, opts) {
        this.name = name;
        this.cli = cli;
        this.socket = socket;
        this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        this.env = opts.env ?? process.env;
    }
    /** The engine `name` as installed here (API socket or CLI), or null when absent. */
    static find(name, opts = {}) {
        const env = opts.env ?? process.env;
        const cli = findOnPath(name, env);
        const socket = name === 'docker' ? dockerSocket(env) : null;
        if (cli === null && socket === null)
            return null;
        return new ContainerEngine(name, cli, socket, opts);
    }
    /** An engine at a known CLI path (the container step's post step, from its saved state). */
    static at(name, cli, opts = {}) {
        return new ContainerEngine(name, cli, null, opts);
    }
    /**
     * Every engine to ask about the host (published ports, orphan containers, container
     * owners). By default podman only as root: for another user `podman ps` would set up
     * rootless storage as a side effect, and rootless podman publishes through a process that
     * binds the host port, which the socket probe sees anyway.
     */
    static present(opts = {}) {
        const wanted = opts.engines ?? (process.getuid?.() === 0 ? ENGINES : ['docker']);
        return wanted
            .map((n) => ContainerEngine.find(n, opts))
            .filter((e) => e !== null);
    }
    /**
     * The engine that runs service containers: `docker` or `podman` as named (its CLI must be
     * on PATH), or `auto`: docker when its daemon answers, else podman.
     */
    static async choose(choice, opts = {}) {
        const label = opts.label ?? 'engine';
        const env = opts.env ?? process.env;
        if (choice !== 'auto') {
            const path = findOnPath(choice, env);
            if (path === null) {
                throw new errors_UsageError(`${label}: ${choice} is not installed (not found on PATH); install it or use ${choice === 'docker' ? 'podman' : 'docker'} or auto`);
            }
            return ContainerEngine.at(choice, path, opts);
        }
        const docker = findOnPath('docker', env);
        const podman = findOnPath('podman', env);
        if (docker !== null) {
            const e = ContainerEngine.at('docker', docker, opts);
            if (podman === null || (await e.answers()))
                return e;
        }
        if (podman !== null)
            return ContainerEngine.at('podman', podman, opts);
        throw new errors_UsageError(`${label}: neither docker nor podman is installed (not found on PATH); install one, or run on a host that has one`);
    }
    command(args, opts = {}) {
        if (this.cli === null) {
            return Promise.resolve({ code: 127, stdout: '', stderr: `${this.name}: no CLI on PATH` });
        }
        return command_runCommand(this.cli, args, opts.timeoutMs, opts.env ?? this.env);
    }
    fail(what, r) {
        return new RuntimeError(`${this.name} ${what}: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.code}`}`);
    }
    /** Does the engine's daemon (or podman itself) answer? */
    async answers() {
        const r = await this.command(['version', '--format', '{{.Server.Version}}'], {
            timeoutMs: 10_000,
        });
        return r.code === 0;
    }
    /** Containers, running (or with `all`, any), optionally only those with `label` (KEY or KEY=VALUE). */
    async list(opts = {}) {
        const all = opts.all === true;
        if (this.socket !== null) {
            const q = new URLSearchParams({ all: all ? '1' : '0' });
            if (opts.label !== undefined)
                q.set('filters', JSON.stringify({ label: [opts.label] }));
            const a = await dockerApi(this.socket, 'GET', `/containers/json?${q.toString()}`, this.timeoutMs);
            if (!a.ok)
                throw new Error(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
            return parseDockerApiRows(a.body);
        }
        if (this.name === 'podman' && podmanStoreEmpty(this.env))
            return [];
        const args = ['ps'];
        if (all)
            args.push('-a');
        if (opts.label !== undefined)
            args.push('--filter', `label=${opts.label}`);
        args.push(...(this.name === 'docker' ? ['--no-trunc', '--format', '{{json .}}'] : ['--format', 'json']));
        const r = await this.command(args, { timeoutMs: this.timeoutMs });
        if (r.code !== 0)
            throw this.fail('ps', r);
        return this.name === 'docker' ? parseDockerPsLines(r.stdout) : parsePodmanPs(r.stdout);
    }
    /** true: running; false: no such container or not running; throws when the engine cannot tell. */
    async running(id) {
        if (this.socket !== null) {
            const a = await dockerApi(this.socket, 'GET', `/containers/${encodeURIComponent(id)}/json`, this.timeoutMs);
            if (a.status === 404)
                return false;
            if (!a.ok)
                throw new Error(`docker API answered ${a.status}`);
            const body = JSON.parse(a.body);
            return isRecord(body) && isRecord(body.State) && body.State.Running === true;
        }
        const s = await this.state(id, this.timeoutMs);
        return s.running;
    }
    /** Remove a container with its anonymous volumes, even when running (gone already: fine). */
    async remove(id) {
        const timeoutMs = Math.max(this.timeoutMs, REMOVE_TIMEOUT_MS);
        if (this.socket !== null) {
            const a = await dockerApi(this.socket, 'DELETE', `/containers/${encodeURIComponent(id)}?force=1&v=1`, timeoutMs);
            if (!a.ok && a.status !== 404) {
                throw new RuntimeError(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
            }
            return;
        }
        const args = ['rm', '-f', '-v', ...(this.name === 'podman' ? ['--time', '0'] : []), id];
        const r = await this.command(args, { timeoutMs });
        if (r.code !== 0 && !NO_SUCH.test(r.stderr))
            throw this.fail(`rm ${id.slice(0, 12)}`, r);
    }
    /** Ids of every container (running or not) with label KEY=VALUE. */
    async idsByLabel(key, value) {
        const found = await this.list({ all: true, label: `${key}=${value}` });
        return found.map((c) => c.id).filter((id) => CONTAINER_ID.test(id));
    }
    /** `run -d ...`: the new container's id. `env` values reach the engine's environment only (never argv). */
    async run(args, env) {
        const childEnv = { ...this.env };
        for (const [k, v] of env)
            childEnv[k] = v;
        const r = await this.command(['run', ...args], { env: childEnv });
        if (r.code !== 0)
            throw this.fail(`run failed (exit ${r.code})`, r);
        const id = r.stdout.trim().split('\n').pop()?.trim() ?? '';
        if (!CONTAINER_ID.test(id)) {
            throw new RuntimeError(`${this.name} run printed no container id: ${firstLine(r.stdout)}`);
        }
        return id;
    }
    async state(id, timeoutMs) {
        const r = await this.command(['container', 'inspect', '--format', '{{json .State}}', id], {
            timeoutMs,
        });
        if (r.code !== 0) {
            if (NO_SUCH.test(r.stderr)) {
                return { status: 'missing', running: false, exitCode: -1, health: null };
            }
            throw this.fail(`inspect ${id.slice(0, 12)}`, r);
        }
        const s = JSON.parse(r.stdout.trim().split('\n')[0] ?? 'null');
        if (!isRecord(s))
            throw new RuntimeError(`${this.name} inspect: unexpected answer`);
        const h = isRecord(s.Health) ? s.Health : isRecord(s.Healthcheck) ? s.Healthcheck : null;
        const health = h !== null && typeof h.Status === 'string' && h.Status !== '' ? h.Status : null;
        return {
            status: typeof s.Status === 'string' ? s.Status : 'unknown',
            running: s.Running === true,
            exitCode: typeof s.ExitCode === 'number' ? s.ExitCode : -1,
            health,
        };
    }
    /** Does the container's image (or its run options) define a HEALTHCHECK? */
    async hasHealthcheck(id) {
        const r = await this.command([
            'container',
            'inspect',
            '--format',
            '{{json .Config.Healthcheck}}',
            id,
        ]);
        if (r.code !== 0)
            return false;
        try {
            const h = JSON.parse(r.stdout.trim() || 'null');
            return isRecord(h) && Array.isArray(h.Test) && h.Test.length > 0 && h.Test[0] !== 'NONE';
        }
        catch {
            return false;
        }
    }
    /** Podman runs HEALTHCHECKs from systemd timers, absent on many hosts: run one now. */
    async runHealthcheck(id) {
        if (this.name === 'podman')
            await this.command(['healthcheck', 'run', id]);
    }
    /** Run a command in the container; its exit code and last output line. */
    async execIn(id, cmd) {
        const r = await this.command(['exec', id, ...cmd]);
        const out = (r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? '';
        return { code: r.code, output: out.slice(0, 200) };
    }
    /** The container's last `tail` log lines (stdout and stderr as the engine keeps them). */
    async logs(id, tail) {
        const r = await this.command(['logs', '--tail', String(tail), id]);
        if (r.code !== 0)
            throw this.fail('logs', r);
        return [r.stdout, r.stderr].filter((s) => s.trim() !== '').join('\n');
    }
}

;// CONCATENATED MODULE: ./src/engines/host.ts
/**
 * What the host's container engines know that a socket probe may not, as the core and gc
 * need it: host ports they publish (busy for every allocation), whether a job container
 * still runs (container owners), and service containers whose lease is gone (gc).
 *
 * Every query is bounded by a short timeout and answers "nothing known" quietly when no
 * engine is installed or answering: an engine is never required.
 */





/**
 * Host TCP ports published by running containers (any container, portlease's or not), from
 * every engine asked. [] when no engine is installed or answering; never throws.
 */
async function publishedPorts(opts = {}) {
    const results = await Promise.all(ContainerEngine.present(opts).map(async (e) => {
        try {
            return (await e.list()).flatMap((c) => c.hostPorts);
        }
        catch (err) {
            opts.debug?.(`${e.name}: no published ports known: ${describeError(err)}`);
            return [];
        }
    }));
    return [...new Set(results.flat())].sort((a, b) => a - b);
}
/**
 * Remove every container labelled `portlease.lease=<id>` whose lease is not in
 * `liveLeaseIds` and whose `portlease.registry` label names `registry`. With `dryRun`,
 * only say which. Never throws; failures become warnings.
 *
 * `liveLeaseIds` is called after the containers are listed, which closes a race: a service
 * that leased and started its container meanwhile (lease first, then `run`) is seen live
 * and never removed.
 */
async function removeOrphanContainers(
/** Resolves to null when the live set is not known for sure (a damaged registry read): remove nothing. */
liveLeaseIds, opts) {
    const registry = (0,external_node_path_namespaceObject.resolve)(opts.registry);
    const found = [];
    for (const e of ContainerEngine.present(opts)) {
        try {
            found.push([e, await e.list({ all: true, label: LEASE_LABEL })]);
        }
        catch (err) {
            opts.warn?.(`${e.name}: cannot list containers: ${describeError(err)}`);
        }
    }
    if (found.every(([, list]) => list.length === 0))
        return [];
    const ids = await liveLeaseIds();
    if (ids === null)
        return [];
    const live = new Set(ids);
    const out = [];
    for (const [e, list] of found) {
        for (const c of list) {
            const lease = c.labels[LEASE_LABEL];
            const theirs = c.labels[REGISTRY_LABEL];
            if (lease === undefined || c.id === '' || live.has(lease))
                continue;
            if (theirs === undefined || (0,external_node_path_namespaceObject.resolve)(theirs) !== registry)
                continue;
            const entry = {
                engine: e.name,
                id: c.id,
                name: c.name,
                lease,
                removed: false,
            };
            if (!opts.dryRun) {
                try {
                    await e.remove(c.id);
                    entry.removed = true;
                }
                catch (err) {
                    opts.warn?.(`${e.name}: cannot remove container ${c.id.slice(0, 12)}: ${describeError(err)}`);
                }
            }
            out.push(entry);
        }
    }
    return out;
}
/**
 * Remove every container of one lease in `registry` (any engine present): those labelled
 * `portlease.lease=<id>` and `portlease.registry=<registry>`. The ids removed; never throws.
 */
async function removeLeaseContainers(leaseId, opts) {
    const registry = (0,external_node_path_namespaceObject.resolve)(opts.registry);
    const removed = [];
    for (const e of ContainerEngine.present(opts)) {
        try {
            for (const c of await e.list({ all: true, label: `${LEASE_LABEL}=${leaseId}` })) {
                const theirs = c.labels[REGISTRY_LABEL];
                if (c.id === '' || theirs === undefined || (0,external_node_path_namespaceObject.resolve)(theirs) !== registry)
                    continue;
                await e.remove(c.id);
                removed.push(c.id);
            }
        }
        catch (err) {
            opts.warn?.(`${e.name}: containers of lease ${leaseId}: ${describeError(err)}`);
        }
    }
    return removed;
}
/**
 * Liveness of a container owner (the core's `containerLiveness` hook): 'alive' while an
 * engine says it runs; 'dead' only when provable from here: the same kernel boot (a job
 * container shares the host's boot id, not its hostname) and every engine on the host
 * answered that it is not running; or the same host with another boot id (rebooted).
 * Otherwise 'unknown' (another machine, or no engine answering): the TTL decides.
 */
function containerLivenessChecker(opts = {}) {
    return async (owner) => {
        const boot = bootId();
        if (owner.boot !== null && boot !== null) {
            if (owner.boot !== boot)
                return owner.host === (0,external_node_os_namespaceObject.hostname)() ? 'dead' : 'unknown';
        }
        else if (owner.host !== (0,external_node_os_namespaceObject.hostname)()) {
            return 'unknown';
        }
        const found = ContainerEngine.present({ ...opts, engines: opts.engines ?? ENGINES });
        if (found.length === 0)
            return 'unknown';
        let unsure = false;
        for (const e of found) {
            try {
                if (await e.running(owner.id))
                    return 'alive';
            }
            catch {
                unsure = true;
            }
        }
        return unsure ? 'unknown' : 'dead';
    };
}

;// CONCATENATED MODULE: ./src/job/host-registry.ts
/**
 * The one Registry wiring every shell on a host uses (CLI, library, action, container step):
 * where the registry lives, how it logs, and what the container engines add to it (host ports
 * they publish are busy; a container owner lives while its engine says it runs). No
 * @actions/* here: the library bundles this module, and the GitHub shells pass their log
 * (core.warning, core.debug) as `warn` and `debug`.
 */


/** A lease's TTL when none is given: bounds a lease whose owner outlives its use. */
const DEFAULT_TTL_MS = 24 * 3_600_000;
/**
 * How often a holder that lives on (exec; the library's lease(), getPort() and listen())
 * renews a lease that has the default TTL, so a server may run for days: hourly. PORTLEASE_HEARTBEAT_MS overrides it
 * (at least 1 s), for tests.
 */
function heartbeatMs(env = process.env) {
    return Math.max(1000, Number(env.PORTLEASE_HEARTBEAT_MS) || 3_600_000);
}
/**
 * Renew lease `id` to `ttlMs` from now every heartbeatMs() while its holder runs (exec; the
 * library's lease(), getPort() and listen()): a lease with the default TTL would otherwise
 * expire under a holder that runs for days. The timer is unref'd (it never keeps a process alive) and
 * stops by itself once the lease is gone (released elsewhere, reclaimed); a renewal that
 * fails is told to `warn` as one line. Returns the stop.
 */
function renewWhileHeld(registry, id, ttlMs, warn, env = process.env) {
    const timer = setInterval(() => {
        registry.update(id, { ttlMs }).then((lease) => {
            if (lease === null)
                clearInterval(timer);
        }, (err) => {
            warn(`could not renew ${id}: ${describeError(err)}`);
        });
    }, heartbeatMs(env));
    timer.unref();
    return () => {
        clearInterval(timer);
    };
}
/**
 * How long a long-lived server (`serve`, `portserver`) reuses the container engines'
 * published ports for a burst of allocations. Those ports are a best-effort check made
 * outside the lock (a container that publishes a port a moment after the check is not seen
 * either way), and every port is still probed by binding it; asking the engines for each
 * request would cost about a millisecond each.
 */
const SERVER_BUSY_PORTS_MAX_AGE_MS = 250;
/**
 * `query` shared by every caller while it runs and for `maxAgeMs` after it started: one
 * answer for a burst of allocations. A failed query is never reused.
 */
function sharedQuery(query, maxAgeMs) {
    let last;
    return () => {
        const now = Date.now();
        if (last !== undefined && now - last.started <= maxAgeMs)
            return last.answer;
        const answer = query();
        const mine = { started: now, answer };
        last = mine;
        answer.catch(() => {
            if (last === mine)
                last = undefined;
        });
        return answer;
    };
}
/**
 * The registry directory a user named (`label` is how the input is called: `--registry`,
 * `registry`, ...), else $PORTLEASE_REGISTRY, else the host-wide default.
 */
function registryDir(dir, label, env = process.env) {
    if (dir !== undefined && dir.trim() === '') {
        throw new errors_UsageError(`${label}: empty path; name a directory`);
    }
    return dir ?? defaultRegistryDir(env);
}
/** Is PORTLEASE_DEBUG set (to anything but 0)? */
function debugEnabled(env = process.env) {
    const v = env.PORTLEASE_DEBUG;
    return v !== undefined && v !== '' && v !== '0';
}
/** A Registry at `dir` that treats engine-published host ports as busy and knows container liveness. */
function createHostRegistry(dir, opts = {}) {
    const { env = process.env, busyPortsMaxAgeMs = 0, ...rest } = opts;
    const debug = rest.debug;
    const published = () => publishedPorts({ env, debug });
    return new Registry(dir, {
        // Host ports published by containers (docker/podman) are busy even where no socket shows.
        busyPorts: busyPortsMaxAgeMs > 0 ? sharedQuery(published, busyPortsMaxAgeMs) : published,
        containerLiveness: containerLivenessChecker({ env }),
        ...rest,
    });
}

;// CONCATENATED MODULE: ./src/cli/args.ts
/**
 * What the CLI's commands share: the parsed flags, the registry and owner they name, the
 * allocate request built from them, and the JSON a lease is shown as. The lease server
 * (serve.ts) builds its requests through the same functions, so its answers carry the
 * CLI's messages.
 */



function args_str(values, name) {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
}
/** The CLI's warnings and (with PORTLEASE_DEBUG) debug lines, on stderr. */
function logTo(io) {
    return {
        warn: (m) => {
            io.err(`portlease: warning: ${m}`);
        },
        debug: debugEnabled(io.env)
            ? (m) => {
                io.err(`portlease: debug: ${m}`);
            }
            : undefined,
    };
}
function registryFrom(values, io, busyPortsMaxAgeMs = 0) {
    return createHostRegistry(registryDir(args_str(values, 'registry'), '--registry', io.env), {
        env: io.env,
        busyPortsMaxAgeMs,
        ...logTo(io),
    });
}
/** `--owner` / `--owner-pid`, else the default owner (docs/lifetimes.md). */
function ownerFrom(values, io) {
    const spec = args_str(values, 'owner');
    const pid = args_str(values, 'owner-pid');
    if (spec !== undefined && pid !== undefined) {
        throw new errors_UsageError('--owner-pid: give either --owner or --owner-pid (an alias of --owner pid:N), not both');
    }
    if (pid !== undefined) {
        const spec = { kind: 'pid', pid: parsePid(pid, '--owner-pid') };
        return { ...resolveOwner(spec, '--owner-pid'), explicit: true };
    }
    if (spec !== undefined) {
        return { ...resolveOwner(parseOwnerSpec(spec, '--owner'), '--owner'), explicit: true };
    }
    return { ...defaultOwner(io.env), explicit: false };
}
/** Build the allocate request from parsed flags; every value checked, nothing touched yet. */
function allocateRequest(values, positionals, choice) {
    const owner = choice.owner;
    const countText = args_str(values, 'count');
    let names;
    if (countText !== undefined) {
        if (positionals.length > 0) {
            throw new errors_UsageError('--count: give either NAMEs or --count N, not both');
        }
        names = countNames(parseCount(countText, '--count'));
    }
    else {
        if (positionals.length === 0) {
            throw new errors_UsageError('allocate: no port names given; name at least one (like WEB_PORT) or use --count N');
        }
        names = checkNames(positionals, 'NAME');
    }
    const rangeText = args_str(values, 'range');
    const key = args_str(values, 'key');
    const strategy = args_str(values, 'strategy');
    const ttl = args_str(values, 'ttl');
    const wait = args_str(values, 'wait');
    const byOwner = ownerDefaults(owner, DEFAULT_TTL_MS);
    return {
        names,
        range: rangeText === undefined ? undefined : parseRange(rangeText, '--range'),
        contiguous: values.contiguous === true ? true : undefined,
        key: key !== undefined ? checkKey(key, '--key') : byOwner.key,
        strategy: strategy === undefined ? 'hash' : parseStrategy(strategy, '--strategy'),
        ttlMs: ttl === undefined ? byOwner.ttlMs : parseDuration(ttl, '--ttl'),
        waitMs: wait === undefined ? 0 : parseDuration(wait, '--wait', { allowZero: true }),
        owner,
        renew: { ttl: ttl !== undefined, owner: choice.explicit },
        allowEphemeral: values['allow-ephemeral'] === true,
    };
}
/** The asked-for names with their ports (a key's lease may hold more). */
function askedPorts(lease, names) {
    return Object.fromEntries(names.map((n) => [n, lease.ports[n]]));
}
function leaseJson(lease, extra = {}, ports = lease.ports) {
    return {
        lease: lease.id,
        key: lease.key,
        ports,
        owner: lease.owner,
        expires: lease.expires,
        created: lease.created,
        range: lease.range,
        contiguous: lease.contiguous,
        labels: lease.labels,
        ...extra,
    };
}

;// CONCATENATED MODULE: ./src/cli/help.ts

const RANGE = formatRange(DEFAULT_RANGE);
const ALLOCATE_OPTIONS = `Options:
  --count N             N ports named PORT_1..PORT_N instead of NAMEs
  --range LO-HI         ports to choose from (default ${RANGE})
  --contiguous          one block of consecutive ports
  --key KEY             same key while its lease lives: the same ports back; more NAMEs
                        grow it; a new --ttl or --owner renews it (default: a new key)
  --strategy S          hash (default: the key picks a stable start), random, sequential
  --ttl D               lease ends after D even if its owner lives (default 24h, none for
                        --owner dir:; 90s, 15m, 6h, 2d)
  --owner OWNER         who the lease lives with (default: the job's Runner.Worker in a
                        GitHub Actions step, else the calling shell's session):
                          pid:N        while process N runs (alias: --owner-pid N)
                          session      while any process of this session runs
                          session:SID  while any process of session SID runs
                          dir:PATH     while directory PATH exists (key: dir:<realpath>)
                          job          while this GitHub Actions job's Runner.Worker runs
                          none         TTL only
  --wait D              when the range is full, wait up to D for a release (default 0)
  --write FILE          also write the ports to FILE, atomically: NAME=PORT lines if FILE
                        ends in .env, else a JSON object {"NAME": port}
  --allow-ephemeral     allow ports inside the kernel's ephemeral range
  --registry DIR        registry directory (default $PORTLEASE_REGISTRY, else /tmp/portlease)
  --json                print one JSON object instead of NAME=PORT lines`;
const HELP = {
    main: `portlease: collision-free TCP ports for parallel jobs that share one host

Usage:
  portlease allocate NAME... [options]      lease ports; prints NAME=PORT lines
  portlease release (--key KEY | --lease ID) give a lease back
  portlease list [--json]                   live leases
  portlease gc [--dry-run]                  remove leases whose owner died or TTL passed
  portlease exec NAME... [options] -- CMD   run CMD with NAME=PORT set; release on exit
  portlease service NAME --image I --container-port P [options] [-- CMD]
                                            a service container on a leased port
  portlease serve [--socket PATH]           a warm lease server (JSON lines on a socket)
  portlease portserver [--address ADDR]     serve portpicker's clients (PORTSERVER_ADDRESS)

Every command takes --registry DIR and --help. 'portlease COMMAND --help' for more.
Exit status: 0 ok, 1 could not be done (range full, registry not writable), 2 bad usage.
Set PORTLEASE_DEBUG=1 to log every decision to stderr.`,
    allocate: `Usage: portlease allocate NAME... [options]
       portlease allocate --count N [options]

Lease one port per NAME (an environment-variable name) and print NAME=PORT lines, e.g.
  eval "$(portlease allocate WEB_PORT DB_PORT --key "$PWD")"

${ALLOCATE_OPTIONS}`,
    release: `Usage: portlease release (--key KEY | --lease ID) [--registry DIR]

Give a lease back. Releasing a lease that is already gone is not an error (exit 0).`,
    list: `Usage: portlease list [--json] [--registry DIR]

Show the live leases: id, key, ports, owner and expiry. --json prints a JSON array.`,
    serve: `Usage: portlease serve [--socket PATH] [--idle D] [--exit-on-eof] [--registry DIR]

Answer lease requests over a Unix stream socket, one JSON object per line each way, through
the same registry, lock and store as every other command (docs/cli.md has the protocol):
  {"op":"allocate","pid":PID,"names":["WEB_PORT"],"range":"21000-21099",...}
  {"op":"release","lease":ID,"token":T}   {"op":"renew","lease":ID,"token":T,"ttl":"1h"}
  {"op":"list"}
A lease is owned by the client's PID (or the owner it names), never by the server. When it
listens it prints one line: {"socket":PATH,"pid":N,"version":V}.

Options:
  --socket PATH         where to listen (default <registry>/serve.sock; mode 0666)
  --idle D              exit after D with no connection (default: never)
  --exit-on-eof         exit when stdin closes (the process that started it went away)
  --registry DIR        registry directory (default $PORTLEASE_REGISTRY, else /tmp/portlease)`,
    gc: `Usage: portlease gc [--dry-run] [--registry DIR]

Remove leases whose owner is provably dead (same boot: pid gone or reused; host rebooted) or
whose TTL has passed. Never removes a live lease. --dry-run only says what it would remove.`,
    exec: `Usage: portlease exec NAME... [options] -- COMMAND [ARGS...]
       portlease exec --portserver [NAME...] [options] -- COMMAND [ARGS...]

Lease ports, print them on stderr, and run COMMAND in its own session (and process group)
with NAME=PORT and PORTLEASE_LEASE=ID in its environment. The lease lives while exec, any
process of that session, or any process carrying PORTLEASE_LEASE=ID runs, even after exec
itself is killed with SIGKILL. When COMMAND exits, or exec gets SIGINT, SIGTERM or SIGHUP,
the whole tree gets that signal (SIGTERM for what COMMAND left behind), then SIGKILL after
the grace period; then the lease is released and exec exits with COMMAND's status (128+N
when it died of signal N). With --key on another owner's live lease, exec uses its ports
and leaves it as it is.

${ALLOCATE_OPTIONS.replace(/\n {2}--owner OWNER[^]*?(?=\n {2}--wait)/, '')
        .replace(/\n {2}--json[^\n]*/, '')
        .replace(/\n {2}--ttl D[^\n]*\n[^\n]*/, '\n  --ttl D               lease ends after D even if the tree lives (default: 24h,\n                        renewed every hour while exec runs)')}
  --grace D             time between SIGTERM and SIGKILL (default 5s; 0 = SIGKILL at once)
  --listen              bind every leased port here and pass the listening sockets to COMMAND
                        as fds 3, 4, ... (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES; NAME_FD=N)
  --listen-host H       the address for --listen: 127.0.0.1 (default), 0.0.0.0, ::, ::1 or
                        another IP address of this host
  --portserver          also serve portpicker's protocol to COMMAND's tree on a fresh private
                        address, set in PORTSERVER_ADDRESS: each pick_unused_port() is a lease
                        owned by the asking process, in --range (see 'portlease portserver
                        --help'). NAMEs may then be left out: no ports of exec's own`,
    portserver: `Usage: portlease portserver [--address ADDR] [--range LO-HI] [--registry DIR]

Serve portpicker's portserver protocol (Python's portpicker: a client sends its pid and a
newline, gets PORT and a newline) on a Unix socket, until SIGINT, SIGTERM or SIGHUP (exit 0).
Set PORTSERVER_ADDRESS=ADDR for the clients. Each port handed out is a lease in the registry
owned by the pid that asked (key portserver:pid:PID:..., label source=portserver): it ends
when that process exits (portlease gc, or the next allocation reclaims it), never with this
server. A request that is not the pid of a live process (0, 1, garbage, a line of more than
32 bytes, nothing within 5s) gets an empty reply and changes nothing; so does one that
cannot be served, with one warning line on stderr (range full). Prints one JSON line on
stdout once it listens: {"address":ADDR,"pid":N,"range":"LO-HI","registry":DIR}.

Options:
  --address ADDR        @NAME (abstract socket, Linux) or a socket path (a stale socket file
                        there is replaced; default @unittest-portserver, the reference
                        portserver's, so PORTSERVER_ADDRESS=@unittest-portserver keeps working)
  --range LO-HI         ports to lease from (default ${RANGE})
  --allow-ephemeral     allow ports inside the kernel's ephemeral range
  --registry DIR        registry directory (default $PORTLEASE_REGISTRY, else /tmp/portlease)`,
    service: `Usage: portlease service NAME --image IMAGE --container-port PORT [options] [-- COMMAND [ARGS...]]

Lease a host port for NAME, run IMAGE detached with PORT published on 127.0.0.1:<leased
port> and the labels portlease.lease and portlease.registry, and wait until it is ready.
With COMMAND: run it with NAME=<port> set, then remove the container (with its volumes) and
release the lease when it exits or on SIGINT/SIGTERM/SIGHUP; exit with its status.
Without COMMAND: print one JSON object (lease, port, container, ...) and leave the service
running; 'portlease release --lease ID' removes it, and 'portlease gc' removes it once the
lease's owner is gone. Nothing is ever run through a shell.

Service options (the container step's inputs):
  --image IMAGE         the image to run (required), like postgres:16
  --container-port P    the port the service listens on inside the container (required)
  --args WORDS          command and arguments for the image (split like shell words)
  --env KEY=VALUE       an environment variable for the container (repeatable); values
                        reach the engine through its environment, never its command line
  --options WORDS       more options for 'docker run' (not -p/--publish/--rm)
  --health MODE         tcp (default), http, docker (its HEALTHCHECK), cmd, none
  --health-cmd WORDS    a command that succeeds in the container once it is ready
  --health-timeout D    how long to wait until ready (default 2m)
  --engine E            docker, podman or auto (default: docker when its daemon answers)
  --pull P              missing (default), always, never

${ALLOCATE_OPTIONS.replace(/\n {2}--count[^\n]*/, '').replace(/\n {2}--json[^\n]*/, '')}`,
};

;// CONCATENATED MODULE: ./src/cli/socket-activation.ts
/**
 * `exec --listen`: bind listening TCP sockets on leased ports while the lease is held, and
 * hand them to the command as inherited file descriptors 3, 4, ... with systemd's
 * socket-activation protocol (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) plus NAME_FD=N for
 * servers that take a plain fd. From the lease on, the port is never unbound: no process
 * outside the registry can take it between the lease and the server's start.
 *
 * LISTEN_PID must be the command's own pid, which is not known before it starts: the
 * command is started through `/bin/sh -c 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"'`,
 * where `$$` is the shell's pid and `exec` keeps it for the command.
 */



/** The first inherited descriptor (0-2 are stdin, stdout, stderr). */
const SD_LISTEN_FDS_START = 3;
/** The OS descriptor of a listening server (Node keeps it on the handle on POSIX). */
function descriptor(server) {
    const handle = server._handle;
    const fd = handle?.fd;
    if (typeof fd !== 'number' || fd < 0) {
        throw new RuntimeError('exec --listen: the listening socket has no file descriptor here');
    }
    return fd;
}
async function listenOn(port, host) {
    // No connection is ever accepted here: between this bind and closing this process's copy
    // right after starting the command, the event loop does not poll (the 'listening' and
    // 'spawn' events come by nextTick), so a client that connects meanwhile waits in the
    // backlog for the command (test/cli/listen-handoff.test.ts). Should a poll ever slip in, a
    // connection accepted here is closed rather than left hanging with nobody to serve it.
    const server = (0,external_node_net_namespaceObject.createServer)();
    server.on('connection', (socket) => {
        socket.destroy();
    });
    await bindServer(server, port, host, { label: 'exec --listen', ipv6Only: host === '::' });
    return server;
}
/**
 * Listen on `ports` (name -> port, in the order given) at `host`. On any failure, the
 * sockets bound so far are closed and a RuntimeError names the port.
 */
async function bindListeners(ports, host) {
    const servers = [];
    const closeAll = async () => {
        await Promise.all(servers.splice(0).map(closeServer));
    };
    try {
        for (const [, port] of ports)
            servers.push(await listenOn(port, host));
    }
    catch (err) {
        await closeAll();
        throw err;
    }
    const env = {
        LISTEN_FDS: String(ports.length),
        LISTEN_FDNAMES: ports.map(([n]) => n).join(':'),
    };
    ports.forEach(([name], i) => {
        env[`${name}_FD`] = String(SD_LISTEN_FDS_START + i);
    });
    return {
        stdio: servers.map(descriptor),
        env,
        wrap: (command) => [
            '/bin/sh',
            '-c',
            'LISTEN_PID=$$; export LISTEN_PID; exec "$@"',
            'sh',
            ...command,
        ],
        close: closeAll,
    };
}

;// CONCATENATED MODULE: ./src/cli/unix-socket.ts
/**
 * What the two socket servers (`serve`, `portserver`) share about a Unix stream socket path:
 * its length limit, whether someone listens on it, and listening on it.
 */



/** The longest socket path (the lock's liveness sockets obey it too). */

/**
 * What is at `path`: nothing, a file that is not a socket, a socket someone listens on, or a
 * stale one (connect() answers ECONNREFUSED: its listener is gone). An lstat error other than
 * ENOENT is thrown.
 */
function socketState(path) {
    try {
        if (!(0,external_node_fs_namespaceObject.lstatSync)(path).isSocket())
            return Promise.resolve('not-socket');
    }
    catch (err) {
        if (errnoCode(err) === 'ENOENT')
            return Promise.resolve('none');
        throw err;
    }
    return new Promise((resolve) => {
        const s = (0,external_node_net_namespaceObject.connect)({ path });
        s.once('connect', () => {
            s.destroy();
            resolve('listening');
        });
        s.once('error', (err) => {
            resolve(errnoCode(err) === 'ECONNREFUSED' ? 'stale' : 'listening');
        });
    });
}
/** Listen on `path`; rejects with the listen error. */
function unix_socket_listenOn(server, path) {
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
            server.off('error', reject);
            resolve();
        });
    });
}

;// CONCATENATED MODULE: ./src/cli/serve.ts
/**
 * `portlease serve`: one warm process that answers lease requests over a Unix stream socket
 * (JSON lines; the protocol is in docs/cli.md). It is not a second registry: every request
 * is the CLI's, built by the same functions (args.ts) and run through the same Registry,
 * lock and store, so the CLI, the action, the library and the server mix on one registry.
 * It only saves the start-up of a process per request.
 *
 * A lease it makes is owned by the client that asked (the `pid` it names, with that
 * process's start time, or the owner it names), never by the server: when the server dies,
 * its clients' leases live on with their owners. Release and renew need the token the
 * server handed out with the lease (kept in memory only), so a client can end no lease it
 * did not make here.
 */










/** A request line longer than this closes the connection (after one error reply). */
const MAX_REQUEST_BYTES = 64 * 1024;
const ALLOCATE_FIELDS = [
    'id',
    'op',
    'pid',
    'names',
    'count',
    'range',
    'contiguous',
    'key',
    'strategy',
    'ttl',
    'wait',
    'owner',
    'allow_ephemeral',
];
/** A request the protocol refuses: code 2, like the CLI's exit status for bad usage. */
function bad(message) {
    return new errors_UsageError(message);
}
function field(req, name, type) {
    const v = req[name];
    if (v === undefined || v === null)
        return undefined;
    if (typeof v !== type)
        throw bad(`${name}: ${JSON.stringify(v)} is not a ${type}`);
    return v;
}
/**
 * The request's `pid`: a running process, which owns the lease unless `owner` says otherwise
 * (described once, with its start time, as `--owner-pid` would describe it).
 */
function clientProcess(req) {
    const pid = req.pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1) {
        throw bad(`pid: ${JSON.stringify(pid ?? null)} is not a process id; give the asking process's pid`);
    }
    const owner = describeProcess(pid);
    if (owner === null)
        throw bad(`pid: ${pid} is not a running process`);
    return owner;
}
/**
 * The protocol's allocate request as the CLI's flags, so the CLI's checks and messages apply;
 * `client` is the owner when the request names none.
 */
function allocateFlags(req) {
    for (const k of Object.keys(req)) {
        if (!ALLOCATE_FIELDS.includes(k)) {
            throw bad(`allocate: unknown field ${JSON.stringify(k)}; use ${ALLOCATE_FIELDS.slice(2).join(', ')}`);
        }
    }
    const client = clientProcess(req);
    const values = {};
    for (const name of ['range', 'key', 'strategy', 'ttl', 'wait', 'owner']) {
        const v = field(req, name, 'string');
        if (v !== undefined)
            values[name] = v;
    }
    if (field(req, 'contiguous', 'boolean') === true)
        values.contiguous = true;
    if (field(req, 'allow_ephemeral', 'boolean') === true)
        values['allow-ephemeral'] = true;
    const owner = args_str(values, 'owner')?.trim();
    if (owner === 'session' || owner === 'job') {
        // Bare forms name the caller's own session or job: here that would be the server's.
        throw bad(`owner: "${owner}" would name the server's ${owner}; use pid:N, session:SID, dir:PATH or none`);
    }
    if (req.count !== undefined) {
        if (typeof req.count !== 'number')
            throw bad(`count: ${JSON.stringify(req.count)} is not a number`);
        values.count = String(req.count);
    }
    let names = [];
    if (req.names !== undefined) {
        if (!Array.isArray(req.names) || !req.names.every((n) => typeof n === 'string')) {
            throw bad('names: give an array of port names, like ["WEB_PORT"]');
        }
        names = req.names;
    }
    return { values, names, client: owner === undefined ? client : null };
}
/** What one server keeps: its registry, and the token of each lease it made. */
class LeaseServer {
    registry;
    io;
    tokens = new Map();
    constructor(registry, io) {
        this.registry = registry;
        this.io = io;
    }
    async handle(req) {
        switch (req.op) {
            case 'allocate':
                return this.allocate(req);
            case 'release':
                return this.release(req);
            case 'renew':
                return this.renew(req);
            case 'list':
                for (const k of Object.keys(req)) {
                    if (k !== 'id' && k !== 'op')
                        throw bad(`list: unknown field ${JSON.stringify(k)}; list takes none`);
                }
                return {
                    leases: (await this.registry.list()).map((s) => leaseJson(s.lease, { liveness: s.liveness })),
                };
            default:
                throw bad(`op: ${JSON.stringify(req.op ?? null)} is not an operation; use allocate, release, renew or list`);
        }
    }
    async allocate(req) {
        const { values, names, client } = allocateFlags(req);
        // The client's own process, as --owner-pid would give it (explicit: it renews a key's owner).
        const choice = client === null
            ? ownerFrom(values, this.io)
            : { owner: client, describe: `owner is pid ${client.pid}`, explicit: true };
        const request = allocateRequest(values, names, choice);
        const { lease, reused } = await this.registry.allocate(request);
        // A lease handed back for its key is not this client's, even when this server made it
        // for another client: its token stays with whoever got it first.
        let token = null;
        if (!reused) {
            token = randomSuffix(24);
            this.tokens.set(lease.id, token);
            await this.forgetGone();
        }
        return {
            lease: lease.id,
            key: lease.key,
            ports: askedPorts(lease, request.names),
            expires: lease.expires,
            reused,
            token,
        };
    }
    /** Token count at which forgetGone next looks for leases that are gone. */
    pruneAt = 1024;
    /**
     * Forget the tokens of leases that are gone (their owners exited, gc removed them), so a
     * server that runs for weeks keeps only what can still be released: once the map has
     * doubled since the last look.
     */
    async forgetGone() {
        if (this.tokens.size < this.pruneAt)
            return;
        const live = new Set((await this.registry.list()).map((s) => s.lease.id));
        for (const id of this.tokens.keys())
            if (!live.has(id))
                this.tokens.delete(id);
        this.pruneAt = Math.max(1024, this.tokens.size * 2);
    }
    /** The lease a release or renew names, if the client holds its token. */
    owned(req, op, extra) {
        const allowed = ['id', 'op', 'lease', 'token', ...extra];
        for (const k of Object.keys(req)) {
            if (!allowed.includes(k))
                throw bad(`${op}: unknown field ${JSON.stringify(k)}; use ${allowed.slice(2).join(', ')}`);
        }
        const id = checkLeaseId(String(field(req, 'lease', 'string') ?? ''), 'lease');
        const token = field(req, 'token', 'string');
        if (token === undefined || this.tokens.get(id) !== token) {
            throw bad(`token: lease ${id} was not leased through this server with that token; it is released by its owner, by portlease release, or when its owner exits`);
        }
        return id;
    }
    async release(req) {
        const id = this.owned(req, 'release', []);
        const gone = await this.registry.release({ lease: id });
        this.tokens.delete(id);
        return { released: gone !== null };
    }
    async renew(req) {
        const id = this.owned(req, 'renew', ['ttl']);
        const ttl = field(req, 'ttl', 'string');
        if (ttl === undefined)
            throw bad('ttl: give the new TTL, like "1h"');
        const lease = await this.registry.update(id, { ttlMs: parseDuration(ttl, 'ttl') });
        if (lease === null) {
            this.tokens.delete(id);
            throw new RuntimeError(`lease: ${id} is gone (released, or its owner exited); nothing renewed`);
        }
        return { expires: lease.expires };
    }
}
/** One reply line for a failed request: the CLI's message and exit status. */
function failure(err, io) {
    if (err instanceof PortleaseError) {
        return { ok: false, error: err.message, code: err instanceof errors_UsageError ? 2 : 1 };
    }
    io.err(`portlease: warning: serve: unexpected error: ${describeError(err)}`);
    return { ok: false, error: `unexpected error: ${describeError(err)}`, code: 1 };
}
/** Serve one connection: its requests in order, each answered with one line. */
function serveConnection(socket, server, io) {
    let buffered = '';
    let chain = Promise.resolve();
    const answer = (reply) => {
        if (!socket.destroyed)
            socket.write(JSON.stringify(reply) + '\n');
    };
    const run = (line) => {
        chain = chain.then(async () => {
            let req;
            try {
                req = JSON.parse(line);
            }
            catch {
                answer({ ok: false, error: 'request: not JSON; send one JSON object per line', code: 2 });
                return;
            }
            if (typeof req !== 'object' || req === null || Array.isArray(req)) {
                answer({
                    ok: false,
                    error: 'request: not a JSON object; send {"op": ...} per line',
                    code: 2,
                });
                return;
            }
            const r = req;
            const id = r.id === undefined ? {} : { id: r.id };
            try {
                answer({ ...id, ok: true, ...(await server.handle(r)) });
            }
            catch (err) {
                answer({ ...id, ...failure(err, io) });
            }
        });
    };
    const conn = { closing: false };
    const tooLong = () => {
        conn.closing = true;
        buffered = '';
        chain = chain.then(() => {
            answer({
                ok: false,
                error: `request: a line over ${MAX_REQUEST_BYTES} bytes; closing`,
                code: 2,
            });
            socket.end();
        });
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
        if (conn.closing)
            return;
        buffered += chunk;
        for (;;) {
            const nl = buffered.indexOf('\n');
            if (nl < 0)
                break;
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
                tooLong();
                return;
            }
            if (line !== '')
                run(line);
        }
        if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES)
            tooLong();
    });
    socket.on('error', () => undefined); // a client that went away: nothing to answer
}
/** `portlease serve`: returns the exit status once the server has stopped. */
async function cmdServe(values, io) {
    const registry = registryFrom(values, io, SERVER_BUSY_PORTS_MAX_AGE_MS);
    const idleText = args_str(values, 'idle');
    const idleMs = idleText === undefined ? null : parseDuration(idleText, '--idle');
    const path = (0,external_node_path_namespaceObject.resolve)(args_str(values, 'socket') ?? (0,external_node_path_namespaceObject.join)(registry.dir, 'serve.sock'));
    if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
        throw new errors_UsageError(`--socket: ${path} is longer than ${SOCKET_PATH_MAX} bytes, too long for a Unix socket; name a shorter path`);
    }
    if (args_str(values, 'socket') === undefined)
        ensureRegistryDir(registry.dir);
    const state = await socketState(path);
    if (state === 'not-socket') {
        throw new errors_UsageError(`--socket: ${path} exists and is not a socket; name another path or remove it`);
    }
    if (state === 'listening')
        throw new RuntimeError(`--socket: a server already answers on ${path}`);
    if (state === 'stale')
        (0,external_node_fs_namespaceObject.unlinkSync)(path);
    const lease = new LeaseServer(registry, io);
    const sockets = new Set();
    let idleTimer;
    let stop;
    const stopped = new Promise((resolveStop) => (stop = resolveStop));
    const armIdle = () => {
        clearTimeout(idleTimer);
        if (idleMs !== null && sockets.size === 0)
            idleTimer = setTimeout(stop, idleMs);
    };
    const server = (0,external_node_net_namespaceObject.createServer)((socket) => {
        sockets.add(socket);
        clearTimeout(idleTimer);
        socket.once('close', () => {
            sockets.delete(socket);
            armIdle();
        });
        serveConnection(socket, lease, io);
    });
    server.on('error', (err) => {
        io.err(`portlease: warning: serve: ${describeError(err)}`);
    });
    try {
        await unix_socket_listenOn(server, path);
    }
    catch (err) {
        throw new RuntimeError(`--socket: cannot listen on ${path} (${errnoCode(err) ?? describeError(err)})`);
    }
    const ino = (0,external_node_fs_namespaceObject.lstatSync)(path).ino;
    try {
        (0,external_node_fs_namespaceObject.chmodSync)(path, 0o666); // every user of the registry may connect; umask does not apply
    }
    catch (err) {
        io.err(`portlease: warning: serve: cannot open ${path} to other users (${errnoCode(err) ?? describeError(err)})`);
    }
    io.out(JSON.stringify({ socket: path, pid: process.pid, version: VERSION }));
    armIdle();
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'];
    for (const s of signals)
        process.on(s, stop);
    const onEnd = () => {
        stop();
    };
    if (values['exit-on-eof'] === true) {
        process.stdin.on('end', onEnd);
        process.stdin.on('error', onEnd);
        process.stdin.resume();
    }
    await stopped;
    for (const s of signals)
        process.off(s, stop);
    process.stdin.off('end', onEnd);
    process.stdin.pause();
    clearTimeout(idleTimer);
    await new Promise((resolveClose) => {
        server.close(() => {
            resolveClose();
        });
        for (const s of sockets)
            s.destroy();
    });
    try {
        // Only our own socket: another server may have replaced it meanwhile.
        if ((0,external_node_fs_namespaceObject.lstatSync)(path).ino === ino)
            (0,external_node_fs_namespaceObject.unlinkSync)(path);
    }
    catch {
        // gone already
    }
    return 0;
}

;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
;// CONCATENATED MODULE: ./src/cli/supervise.ts
/**
 * `portlease exec`'s supervision of its command's whole process tree.
 *
 * The command is spawned detached: its own session, so also its own process group. A
 * Ctrl-C typed at the terminal reaches only exec (the terminal's foreground group), which
 * passes it on once. "The tree" is every process in that group or session, plus every
 * process whose environment carries PORTLEASE_LEASE=<lease id> (strays that called setsid,
 * like a daemonizing server or `pg_ctl start`; Jenkins's ProcessTreeKiller finds a build's
 * strays by such a cookie).
 *
 * When the command exits, or exec gets SIGINT, SIGTERM or SIGHUP: the signal (SIGTERM when
 * the command exited by itself) goes to the whole tree, then after the grace period SIGKILL
 * to what is left (a second signal skips the rest of the grace period), then exec waits
 * until the tree is gone. Only then may the lease be released.
 */


const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** Passed on to the command's process group; none of them ends exec (SIGUSR1: signals.ts). */
const PASSED_SIGNALS = ['SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
/** How long to wait for the tree to vanish after SIGKILL before giving up on it. */
const KILL_WAIT_MS = 10_000;
const POLL_MS = 50;
/** Live processes of the tree rooted at session/group `sid` (exec itself excluded). */
function treeMembers(sid, cookie) {
    const scan = scanProcesses();
    if (scan === null)
        return [];
    const out = new Map();
    for (const p of scan.procs) {
        if (p.live && p.pid !== process.pid && (p.sid === sid || p.pgid === sid))
            out.set(p.pid, p);
    }
    if (cookie !== null) {
        const carriers = scanCookies(scan, new Set([process.pid])).carriers.get(cookie) ?? [];
        for (const pid of carriers) {
            const p = scan.procs.find((q) => q.pid === pid);
            if (p)
                out.set(pid, p);
        }
    }
    return [...out.values()].map((p) => ({ pid: p.pid, pgid: p.pgid }));
}
/**
 * Send `sig` to `pids`, and to the process group `sid` while the command (its leader) is
 * not yet reaped: until then that group id cannot belong to anyone else.
 */
function signalAll(sid, members, sig, reaped) {
    const send = (pid) => {
        try {
            process.kill(pid, sig);
        }
        catch {
            // gone already, or not ours to signal (EPERM): it keeps the lease alive instead
        }
    };
    if (!reaped)
        send(-sid); // the group, including members /proc may not show
    // Each process gets the signal once: the group's members got it above.
    for (const m of members)
        if (reaped || m.pgid !== sid)
            send(m.pid);
}
async function supervise(o) {
    const { spawn } = await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 421, 23)); // only exec needs it: load it here
    const signals = [];
    let wake;
    const handlers = STOP_SIGNALS.map((sig) => {
        const h = () => {
            signals.push(sig);
            wake?.();
        };
        process.on(sig, h);
        return [sig, h];
    });
    const group = { sid: null };
    const passers = PASSED_SIGNALS.map((sig) => {
        const h = () => {
            if (group.sid === null)
                return;
            try {
                process.kill(-group.sid, sig);
            }
            catch {
                // the group is gone already
            }
        };
        process.on(sig, h);
        return [sig, h];
    });
    /** Resolves after `ms`, or at once when a signal arrives. */
    const nap = (ms) => new Promise((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
            clearTimeout(t);
            wake = undefined;
            resolve();
        }
        wake = done;
    });
    try {
        const child = spawn(o.file, o.args, {
            stdio: ['inherit', 'inherit', 'inherit', ...(o.fds ?? [])],
            env: o.env,
            detached: true,
        });
        const started = await new Promise((resolve) => {
            child.once('spawn', () => {
                resolve(null);
            });
            child.once('error', resolve);
        });
        if (started !== null || child.pid === undefined) {
            const code = started?.code;
            o.err(`portlease: exec: cannot run ${JSON.stringify(o.file)}: ${code === 'ENOENT' ? 'command not found' : (started?.message ?? 'no process')}`);
            return { status: code === 'ENOENT' ? 127 : 126, leftovers: [] };
        }
        const sid = child.pid;
        group.sid = sid;
        let status;
        child.once('exit', (code, signal) => {
            status = signal !== null ? 128 + external_node_os_namespaceObject.constants.signals[signal] : (code ?? 1);
            group.sid = null; // reaped: the group id may be anyone's now
            wake?.();
        });
        await o.onSpawn(sid);
        // 1. Until the command exits or exec is told to stop.
        while (status === undefined && signals.length === 0)
            await nap(60_000);
        const first = signals[0];
        // 2. The stop signal (or SIGTERM for what the command left behind) to the whole tree.
        let members = treeMembers(sid, o.cookie);
        if (members.length > 0 || status === undefined) {
            signalAll(sid, members, first ?? 'SIGTERM', status !== undefined);
            const deadline = Date.now() + o.graceMs;
            const seen = signals.length;
            while (Date.now() < deadline && signals.length === seen) {
                members = treeMembers(sid, o.cookie);
                if (members.length === 0 && status !== undefined)
                    break;
                await nap(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
            }
        }
        // 3. SIGKILL to what is left, and wait until it is gone.
        members = treeMembers(sid, o.cookie);
        const killDeadline = Date.now() + KILL_WAIT_MS;
        while ((members.length > 0 || status === undefined) && Date.now() < killDeadline) {
            signalAll(sid, members, 'SIGKILL', status !== undefined);
            await nap(POLL_MS);
            members = treeMembers(sid, o.cookie);
        }
        const leftovers = members.map((m) => m.pid);
        if (status === undefined)
            leftovers.push(sid); // not even the command itself went away
        return { status: status ?? 128 + external_node_os_namespaceObject.constants.signals.SIGKILL, leftovers };
    }
    finally {
        for (const [sig, h] of handlers)
            process.off(sig, h);
        for (const [sig, h] of passers)
            process.off(sig, h);
    }
}

;// CONCATENATED MODULE: ./src/cli/portserver.ts
/**
 * `portlease portserver` and `portlease exec --portserver`: portpicker's portserver protocol
 * (Python's `portpicker`, Google's; its reference server is `portserver.py`) over the lease
 * registry, so a suite that calls `portpicker.pick_unused_port()` gets host-safe ports with
 * no code change.
 *
 * The protocol, as portpicker's client speaks it: it connects to the Unix stream socket
 * named by PORTSERVER_ADDRESS (a leading '@' is the abstract namespace, Linux), sends its pid
 * in ASCII and '\n', and reads once (recv(1024)): `PORT\n` is a port; anything else (an empty
 * reply) makes it print "Portserver failed to find a port." and pick a port by itself.
 *
 * Every port handed out is a lease in the registry (the same lock and store as the CLI):
 * owned by the asking pid with its start time, so it ends when that process dies (gc, or the
 * next allocation reclaims it), never owned by this server. A request that is not a live
 * process's pid (0, 1, this server, a pid that is gone, garbage, an over-long line, silence)
 * gets an empty reply and changes nothing. Only a request that cannot be served (range full,
 * registry not writable) is logged, as one warning line.
 */












/** The reference portserver's default: clients already set PORTSERVER_ADDRESS to it. */
const DEFAULT_PORTSERVER_ADDRESS = '@unittest-portserver';
/** `portlease portserver`'s own flags (plus --registry and --help). */
const PORTSERVER_OPTIONS = {
    address: { type: 'string' },
    range: { type: 'string' },
    'allow-ephemeral': { type: 'boolean' },
};
/** A request is a pid and '\n': at most 32 bytes (the reference server takes 20). */
const portserver_MAX_REQUEST_BYTES = 32;
/** A connection that has sent no whole request by then gets the empty reply. */
const REQUEST_TIMEOUT_MS = 5_000;
/** The name every portserver lease's one port has. */
const PORT_NAME = 'PORT';
/**
 * Check a portserver address as portpicker writes it: `@NAME` (abstract namespace on Linux;
 * a named pipe on Windows, as portpicker maps it) or a socket path. Returns it unchanged.
 */
function parseAddress(text, label) {
    const show = JSON.stringify(text);
    if (text === '' || text === '@') {
        throw new errors_UsageError(`${label}: empty address; give @NAME (abstract socket) or a socket path`);
    }
    if (CONTROL_CHARS.test(text)) {
        throw new errors_UsageError(`${label}: ${show} has control characters; give @NAME or a socket path`);
    }
    if (text.startsWith('@') && process.platform !== 'linux' && process.platform !== 'win32') {
        throw new errors_UsageError(`${label}: ${show}: abstract socket addresses (@NAME) need Linux; give a socket path`);
    }
    if (Buffer.byteLength(text) > SOCKET_PATH_MAX) {
        throw new errors_UsageError(`${label}: ${show} is longer than a socket address may be (${SOCKET_PATH_MAX} bytes); use a shorter one`);
    }
    return text;
}
let abstractOk;
/**
 * Does this Node bind an abstract name as exactly that name? Node 20's libuv pads it with
 * NULs to the whole sun_path, a different address, which portpicker's client (exact length)
 * gets ECONNREFUSED from; Node 24's does not. Found out once, with a socket of our own and
 * /proc/net/unix (unreadable: assumed to work).
 */
function abstractNamesWork() {
    abstractOk ??= new Promise((resolve) => {
        const name = `portlease-probe-${process.pid}-${(0,external_node_crypto_namespaceObject.randomBytes)(6).toString('hex')}`;
        const probe = (0,external_node_net_namespaceObject.createServer)();
        probe.once('error', () => {
            resolve(false);
        });
        probe.listen(`\0${name}`, () => {
            let table = null;
            try {
                table = (0,external_node_fs_namespaceObject.readFileSync)('/proc/net/unix', 'latin1');
            }
            catch {
                // no /proc: nothing to tell by
            }
            probe.close();
            resolve(table === null || table.split('\n').some((l) => l.endsWith(` @${name}`)));
        });
    });
    return abstractOk;
}
/** What Node listens on for a portpicker address. */
function listenPath(address) {
    if (!address.startsWith('@'))
        return address;
    return process.platform === 'win32'
        ? `\\\\.\\pipe\\${address.slice(1)}`
        : `\0${address.slice(1)}`;
}
/** Check what every request will be checked against, before anything listens. */
function checkPortserverRequest(cfg) {
    checkRequest(request(cfg, describeProcess(process.pid), 'check'), cfg.registry.dir, undefined);
}
function request(cfg, owner, key) {
    return {
        names: [PORT_NAME],
        range: cfg.range ?? DEFAULT_RANGE,
        key,
        strategy: 'random',
        ttlMs: DEFAULT_TTL_MS,
        owner,
        waitMs: 0,
        labels: { source: 'portserver', address: cfg.address },
        allowEphemeral: cfg.allowEphemeral === true,
    };
}
/** Listen on `address`; a path socket nobody listens on any more (a crash) is replaced. */
async function listen(server, address) {
    const path = listenPath(address);
    try {
        await unix_socket_listenOn(server, path);
    }
    catch (err) {
        const stale = errnoCode(err) === 'EADDRINUSE' &&
            !address.startsWith('@') &&
            (await socketState(path).catch(() => 'none')) === 'stale';
        if (!stale)
            throw listenError(address, err);
        (0,external_node_fs_namespaceObject.unlinkSync)(path);
        try {
            await unix_socket_listenOn(server, path);
        }
        catch (again) {
            throw listenError(address, again);
        }
    }
}
function listenError(address, err) {
    const code = errnoCode(err);
    if (code === 'EADDRINUSE') {
        return new RuntimeError(`portserver: ${address} is in use (another portserver listens there); stop it or give another --address`);
    }
    return new RuntimeError(`portserver: cannot listen on ${address}: ${code ?? describeError(err)}`);
}
/** Start serving portpicker's protocol on `cfg.address`. Resolves once it listens. */
async function startPortserver(cfg) {
    const { registry } = cfg;
    const debug = cfg.debug ?? (() => undefined);
    const refused = new Set([0, 1, process.pid, ...(cfg.refusePids ?? [])]);
    const nonce = (0,external_node_crypto_namespaceObject.randomBytes)(4).toString('hex');
    let count = 0;
    let served = 0;
    let closing = false;
    const conns = new Set();
    const waiting = new Set(); // connections whose request is not read yet
    const inflight = new Set();
    const handed = new Map(); // lease id -> owner
    // Allocations one at a time: they would queue on the registry's lock anyway, and polling
    // for it from one process is slower than a queue. Reading requests never waits here.
    let tail = Promise.resolve();
    const serial = (fn) => {
        const run = tail.then(fn);
        tail = run.catch(() => undefined);
        return run;
    };
    const serve = async (sock, owner) => {
        const key = `portserver:pid:${owner.pid}:${nonce}-${++count}`;
        let lease;
        try {
            ({ lease } = await serial(() => registry.allocate(request(cfg, owner, key))));
        }
        catch (err) {
            cfg.warn(`portserver: no port for pid ${owner.pid}: ${describeError(err).split('\n')[0] ?? ''}; answered nothing (the client picks a port by itself)`);
            sock.end();
            return;
        }
        const port = lease.ports[PORT_NAME];
        const delivered = await new Promise((resolve) => {
            if (sock.destroyed || !sock.writable) {
                resolve(false);
                return;
            }
            sock.write(`${port}\n`, (err) => {
                resolve(err == null);
            });
            sock.end();
        });
        if (!delivered) {
            // Nobody learnt the port: a lease for nothing would only keep it from others.
            debug(`portserver: pid ${owner.pid} left before port ${port} was sent; releasing`);
            await serial(() => registry.release({ lease: lease.id })).catch((err) => {
                cfg.warn(`portserver: could not release ${lease.id}: ${describeError(err)}`);
            });
            return;
        }
        served++;
        handed.set(lease.id, owner);
        debug(`portserver: port ${port} to pid ${owner.pid} (lease ${lease.id})`);
    };
    const onConnection = (sock) => {
        sock.on('error', () => undefined); // a client that vanished: nothing to answer
        conns.add(sock);
        sock.once('close', () => conns.delete(sock));
        if (closing) {
            sock.end();
            return;
        }
        waiting.add(sock);
        let buf = Buffer.alloc(0);
        let decided = false;
        const decide = () => {
            if (decided)
                return false;
            decided = true;
            waiting.delete(sock);
            clearTimeout(timer);
            return true;
        };
        const refuse = (why) => {
            if (!decide())
                return;
            debug(`portserver: empty reply: ${why}`);
            sock.end();
            // A client that never closes its end: gone after a while anyway.
            setTimeout(() => sock.destroy(), REQUEST_TIMEOUT_MS).unref();
        };
        const timer = setTimeout(() => {
            refuse(`no request within ${REQUEST_TIMEOUT_MS / 1000}s`);
        }, REQUEST_TIMEOUT_MS);
        const handle = (line) => {
            const text = line.toString('latin1');
            if (!/^[0-9]{1,10}$/.test(text)) {
                refuse(`not a pid: ${JSON.stringify(text.slice(0, portserver_MAX_REQUEST_BYTES))}`);
                return;
            }
            const pid = Number(text);
            if (refused.has(pid) || pid > 0x3fffffff) {
                refuse(`pid ${pid} is not served`);
                return;
            }
            const owner = describeProcess(pid);
            if (owner === null) {
                refuse(`no process ${pid}`);
                return;
            }
            decide();
            const p = serve(sock, owner).finally(() => inflight.delete(p));
            inflight.add(p);
        };
        sock.on('data', (chunk) => {
            if (decided)
                return;
            buf = Buffer.concat([buf, chunk]);
            const nl = buf.indexOf(10);
            if (nl < 0) {
                if (buf.length > portserver_MAX_REQUEST_BYTES)
                    refuse(`more than ${portserver_MAX_REQUEST_BYTES} bytes`);
            }
            else if (nl !== buf.length - 1)
                refuse('bytes after the newline');
            else
                handle(buf.subarray(0, nl));
        });
        sock.on('end', () => {
            // A request without its newline is taken at end of input (`printf 123 | nc -U ...`).
            if (decided)
                return;
            if (buf.length === 0)
                refuse('closed without a request');
            else
                handle(buf);
        });
    };
    if (process.platform === 'linux' && cfg.address.startsWith('@') && !(await abstractNamesWork())) {
        throw new RuntimeError(`portserver: ${cfg.address}: this Node (${process.version}) binds abstract socket names padded with NUL bytes, which portpicker's clients cannot reach; run portlease under Node 22 or later, or give a socket path (--address /run/portserver.sock)`);
    }
    const server = (0,external_node_net_namespaceObject.createServer)({ allowHalfOpen: true }, onConnection);
    await listen(server, cfg.address);
    debug(`portserver: listening on ${cfg.address}`);
    return {
        address: cfg.address,
        served: () => served,
        close: async (opts = {}) => {
            if (closing)
                return;
            closing = true;
            const closed = new Promise((resolve) => {
                server.close(() => {
                    resolve();
                });
            });
            for (const sock of waiting)
                sock.end();
            waiting.clear();
            await Promise.allSettled([...inflight]);
            // Every answer is with the kernel now: clients that keep their end open are let go.
            for (const sock of conns)
                sock.destroy();
            await closed;
            // libuv removes a path socket on close; make sure, if it is still a socket.
            if (!cfg.address.startsWith('@')) {
                try {
                    if ((0,external_node_fs_namespaceObject.lstatSync)(cfg.address).isSocket())
                        (0,external_node_fs_namespaceObject.unlinkSync)(cfg.address);
                }
                catch {
                    // gone already
                }
            }
            if (opts.releaseDead !== true)
                return;
            for (const [id, owner] of handed) {
                if (processLiveness(owner) !== 'dead')
                    continue;
                await registry.release({ lease: id }).catch((err) => {
                    cfg.warn(`portserver: could not release ${id}: ${describeError(err)}`);
                });
            }
        },
    };
}
/**
 * `portlease portserver [--address ADDR] [--range LO-HI] [--registry DIR]`: serve until
 * SIGINT, SIGTERM or SIGHUP, then exit 0. Prints one JSON line on stdout once it listens.
 */
async function cmdPortserver(values, io, makeRegistry) {
    const address = parseAddress(args_str(values, 'address') ?? DEFAULT_PORTSERVER_ADDRESS, '--address');
    const rangeText = args_str(values, 'range');
    const range = rangeText === undefined ? DEFAULT_RANGE : parseRange(rangeText, '--range');
    const cfg = {
        registry: makeRegistry(),
        address,
        range,
        allowEphemeral: values['allow-ephemeral'] === true,
        ...logTo(io),
    };
    checkPortserverRequest(cfg);
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    let onSignal = () => undefined;
    const stop = new Promise((resolve) => {
        onSignal = resolve;
        for (const sig of signals)
            process.on(sig, onSignal);
    });
    let ps;
    try {
        ps = await startPortserver(cfg);
    }
    catch (err) {
        for (const sig of signals)
            process.off(sig, onSignal);
        throw err;
    }
    io.out(JSON.stringify({
        address,
        pid: process.pid,
        range: formatRange(range),
        registry: cfg.registry.dir,
    }));
    const sig = await stop;
    for (const s of signals)
        process.off(s, onSignal);
    await ps.close();
    cfg.debug?.(`portserver: stopped by ${sig} after ${ps.served()} ports`);
    return 0;
}
/**
 * A fresh private address for exec's portserver: abstract where that works, else a socket in
 * a temp directory of this user's; `dispose` removes what it made.
 */
async function freshAddress(tag) {
    if (process.platform === 'win32' ||
        (process.platform === 'linux' && (await abstractNamesWork()))) {
        return { address: `@portlease-${tag}`, dispose: () => undefined };
    }
    const dir = (0,external_node_fs_namespaceObject.mkdtempSync)((0,external_node_path_namespaceObject.join)((0,external_node_os_namespaceObject.tmpdir)(), 'portlease-ps-')); // mode 0700: this user only
    return {
        address: (0,external_node_path_namespaceObject.join)(dir, 's'),
        dispose: () => {
            (0,external_node_fs_namespaceObject.rmSync)(dir, { recursive: true, force: true });
        },
    };
}
/**
 * exec --portserver: a portserver in this process for the command's tree, on a fresh
 * address named after `tag` (exec's lease id, else random).
 */
async function startExecPortserver(opts) {
    const where = await freshAddress(opts.tag ?? `exec-${process.pid}-${(0,external_node_crypto_namespaceObject.randomBytes)(6).toString('hex')}`);
    const cfg = {
        registry: opts.registry,
        address: where.address,
        range: opts.range,
        allowEphemeral: opts.allowEphemeral,
        warn: (m) => {
            opts.io.err(`portlease: warning: exec: ${m}`);
        },
        debug: logTo(opts.io).debug,
    };
    let ps;
    try {
        checkPortserverRequest(cfg);
        ps = await startPortserver(cfg);
    }
    catch (err) {
        where.dispose();
        throw err;
    }
    return {
        env: { PORTSERVER_ADDRESS: where.address },
        close: async () => {
            try {
                await ps.close({ releaseDead: true });
            }
            finally {
                where.dispose();
            }
        },
    };
}
/** exec's flags that shape its own lease: refused when it leases none (--portserver alone). */
const OWN_LEASE_FLAGS = [
    'key',
    'contiguous',
    'strategy',
    'ttl',
    'wait',
    'write',
    'listen',
    'listen-host',
];
/**
 * `portlease exec --portserver -- COMMAND`: no port of exec's own, only the portserver for
 * the command's tree. The command is supervised as with ports (its session and process
 * group; there is no lease, so no PORTLEASE_LEASE cookie).
 */
async function execPortserverOnly(opts) {
    const { values, io } = opts;
    const flag = OWN_LEASE_FLAGS.find((f) => values[f] !== undefined);
    if (flag !== undefined) {
        throw new errors_UsageError(`--${flag}: shapes exec's own lease, and with --portserver and no NAMEs there is none; name a port (like WEB_PORT) or leave out --${flag}`);
    }
    const rangeText = args_str(values, 'range');
    const range = rangeText === undefined ? undefined : parseRange(rangeText, '--range');
    const ps = await startExecPortserver({
        registry: opts.registry(),
        range,
        allowEphemeral: values['allow-ephemeral'] === true,
        io,
    });
    io.err(`portlease: exec: portserver on ${ps.env.PORTSERVER_ADDRESS} (no ports of its own)`);
    let result;
    try {
        const [file, ...args] = opts.command;
        result = await supervise({
            file,
            args,
            env: { ...io.env, ...ps.env },
            graceMs: opts.graceMs,
            cookie: null,
            onSpawn: () => Promise.resolve(),
            err: io.err,
        });
    }
    finally {
        await ps.close();
    }
    if (result.leftovers.length > 0) {
        io.err(`portlease: warning: exec: ${result.leftovers.length} process${result.leftovers.length === 1 ? '' : 'es'} of the command's tree did not exit after SIGKILL (${result.leftovers.slice(0, 10).join(', ')}); their portserver leases stay until they are gone`);
    }
    return result.status;
}

// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __nccwpck_require__(67);
;// CONCATENATED MODULE: ./src/engines/service.ts
/**
 * A service container on a leased host port, from start to removal: the one implementation
 * behind the container step (src/container) and `portlease service` (src/cli).
 *
 * start: run the image detached with the leased port published on 127.0.0.1 and the
 * portlease labels (`portlease.lease`, `portlease.registry`), then wait until it is ready
 * (TCP, HTTP, its HEALTHCHECK, a command in it, or nothing). On failure the caller gets a
 * `ServiceFailure` after the logs were shown; `stop` removes the container(s) of the lease
 * (with volumes) and releases the lease when it is the caller's.
 *
 * The shells decide how things are shown through `ServiceLog` (core.group / core.info in
 * the action, plain stderr lines in the CLI).
 */






/** Log lines shown when the service never became ready. */
const FAILURE_LOG_LINES = 200;
/** A service that did not become ready (the container exited, timed out, unhealthy). */
class ServiceFailure extends RuntimeError {
}
/** An argument as a shell would need it written (for display only: nothing runs a shell). */
function quoteForDisplay(arg) {
    return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
/**
 * A TCP connection to the published port that stays open. Docker's userland proxy accepts
 * on the host port even before the service listens, then closes at once: a connection the
 * peer closes within `settleMs` is not ready.
 */
function tcpCheck(port, settleMs = 500) {
    return () => new Promise((resolve) => {
        const sock = (0,external_node_net_namespaceObject.connect)({ host: '127.0.0.1', port });
        let done = false;
        const finish = (why) => {
            if (done)
                return;
            done = true;
            clearTimeout(timer);
            sock.destroy();
            resolve(why);
        };
        const timer = setTimeout(() => {
            finish('no answer to a TCP connection within 5s');
        }, 5000);
        sock.once('connect', () => {
            clearTimeout(timer);
            setTimeout(() => {
                finish(null);
            }, settleMs);
        });
        const closed = () => {
            finish('the connection was closed at once (not listening yet)');
        };
        sock.once('end', closed);
        sock.once('close', closed);
        sock.once('error', (err) => {
            finish(err.code === 'ECONNREFUSED' ? 'connection refused' : `TCP: ${err.message}`);
        });
    });
}
/** Any HTTP response to GET / on the published port. */
function httpCheck(port) {
    return () => new Promise((resolve) => {
        const req = (0,external_node_http_.request)({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 5000 }, (res) => {
            res.resume();
            resolve(null);
        });
        req.once('timeout', () => req.destroy(new Error('no HTTP answer within 5s')));
        req.once('error', (err) => {
            resolve(err.code === 'ECONNREFUSED' ? 'connection refused' : `HTTP: ${err.message}`);
        });
        req.end();
    });
}
function describeHealth(spec, port) {
    switch (spec.health) {
        case 'tcp':
            return `127.0.0.1:${port} to accept TCP connections`;
        case 'http':
            return `127.0.0.1:${port} to answer HTTP`;
        case 'docker':
            return "the image's HEALTHCHECK to report healthy";
        case 'cmd':
            return `\`${spec.healthCmd.join(' ')}\` to succeed in the container`;
        case 'none':
            return 'nothing';
    }
}
function healthCheck(engine, id, spec, port) {
    switch (spec.health) {
        case 'tcp':
            return tcpCheck(port);
        case 'http':
            return httpCheck(port);
        case 'cmd':
            return async () => {
                const r = await engine.execIn(id, spec.healthCmd);
                return r.code === 0 ? null : `exit ${r.code}${r.output ? `: ${r.output}` : ''}`;
            };
        case 'docker':
            return async () => {
                await engine.runHealthcheck(id);
                const s = await engine.state(id);
                if (s.health === 'unhealthy') {
                    throw new ServiceFailure(`${spec.image} reported unhealthy (its HEALTHCHECK failed its retries)`);
                }
                return s.health === 'healthy' ? null : `health status ${s.health ?? 'none'}`;
            };
        case 'none':
            return () => Promise.resolve(null);
    }
}
/** Wait until the service is ready; throws ServiceFailure on timeout or early exit. */
async function waitReady(engine, id, spec, port, log) {
    const started = Date.now();
    const deadline = started + spec.healthTimeoutMs;
    if (spec.health === 'docker' && !(await engine.hasHealthcheck(id))) {
        throw new ServiceFailure(`health: docker: ${spec.image} has no HEALTHCHECK; use health tcp, http or cmd, or add --health-cmd to the options`);
    }
    log.info(`Waiting up to ${formatDuration(spec.healthTimeoutMs)} for ${describeHealth(spec, port)}`);
    const check = healthCheck(engine, id, spec, port);
    let pause = 250;
    let lastReport = started;
    for (;;) {
        const s = await engine.state(id);
        if (!s.running) {
            throw new ServiceFailure(s.status === 'missing'
                ? `the container ${id.slice(0, 12)} disappeared before it was ready`
                : `the container exited (status ${s.status}, exit code ${s.exitCode}) before it was ready`);
        }
        // A check that hangs (an exec that never returns) ends with the deadline.
        const limit = Math.max(deadline - Date.now(), 1000) + 5000;
        const ac = new AbortController();
        const why = await Promise.race([
            check(),
            (0,promises_namespaceObject.setTimeout)(limit, `the check did not finish within ${Math.round(limit / 1000)}s`, {
                signal: ac.signal,
            }).catch(() => 'aborted'),
        ]);
        ac.abort();
        const elapsed = Date.now() - started;
        if (why === null) {
            log.info(`Ready after ${(elapsed / 1000).toFixed(1)}s (health: ${spec.health})`);
            return;
        }
        if (Date.now() >= deadline) {
            throw new ServiceFailure(`${spec.image} was not ready after ${formatDuration(spec.healthTimeoutMs)} (health-timeout): last check: ${why}`);
        }
        if (Date.now() - lastReport >= 5000) {
            log.info(`  still waiting (${Math.round(elapsed / 1000)}s): ${why}`);
            lastReport = Date.now();
        }
        await (0,promises_namespaceObject.setTimeout)(Math.min(pause, Math.max(0, deadline - Date.now())));
        pause = Math.min(pause * 2, 2000);
    }
}
/** The `run` arguments: detached, labelled, the leased port published on 127.0.0.1. */
function runArgs(spec, lease) {
    const args = ['-d', '--label', `${LEASE_LABEL}=${lease.id}`];
    args.push('--label', `${REGISTRY_LABEL}=${lease.registry}`);
    for (const [k, v] of Object.entries(lease.labels))
        args.push('--label', `portlease.${k}=${v}`);
    args.push('-p', `127.0.0.1:${lease.port}:${spec.containerPort}/tcp`);
    args.push('--pull', spec.pull);
    // Values go through the engine's environment (`-e KEY` alone), never on a command line.
    for (const [k] of spec.env)
        args.push('-e', k);
    args.push(...spec.options, spec.image, ...spec.args);
    return args;
}
/**
 * Run the service container for `lease` on `port` and wait until it is ready. `started` is
 * told the container id as soon as the engine prints it (so a shell can save it before the
 * wait). On failure: the logs are shown, and ServiceFailure or the engine's error is
 * thrown; removing the container and releasing the lease is the caller's `stop`.
 */
async function startService(engine, spec, lease, log, started = () => undefined) {
    const made = { id: null };
    try {
        await log.group(`Start ${spec.image} on 127.0.0.1:${lease.port}`, async () => {
            const args = runArgs(spec, lease);
            log.info(`[command]${engine.name} run ${args.map(quoteForDisplay).join(' ')}`);
            const id = await engine.run(args, spec.env);
            made.id = id;
            started(id);
            log.info(`Container ${id} (${engine.name})`);
            await waitReady(engine, id, spec, lease.port, log);
        });
    }
    catch (err) {
        // Outside the phase's group: groups do not nest in a job log.
        if (made.id !== null)
            await showLogs(engine, made.id, FAILURE_LOG_LINES, log);
        throw err;
    }
    if (made.id === null)
        throw new RuntimeError(`${engine.name} run printed no container id`);
    return { container: made.id };
}
/** The container's last `lines` log lines, in a group; never throws. */
async function showLogs(engine, container, lines, log) {
    await log.group(`Last ${lines} log lines of container ${container.slice(0, 12)}`, async () => {
        try {
            log.untrusted(await engine.logs(container, lines));
        }
        catch (err) {
            log.info(`(no logs: ${describeError(err)})`);
        }
    });
}
/**
 * Remove every container of the lease (the known one and any labelled with it), with its
 * volumes, then release the lease. Never throws: each failure is a warning. Returns the
 * ids removed.
 */
async function stopService(engine, registry, req, log) {
    const ids = new Set();
    if (req.container !== null)
        ids.add(req.container);
    try {
        for (const id of await engine.idsByLabel(LEASE_LABEL, req.lease))
            ids.add(id);
    }
    catch (err) {
        log.warn(`cannot list the containers of lease ${req.lease}: ${describeError(err)}`);
    }
    const removed = [];
    for (const id of ids) {
        if ((req.logLines ?? 0) > 0)
            await showLogs(engine, id, req.logLines ?? 0, log);
        try {
            await engine.remove(id);
            removed.push(id);
            log.info(`Removed container ${id.slice(0, 12)} and its volumes`);
        }
        catch (err) {
            log.warn(`cannot remove container ${id.slice(0, 12)}: ${describeError(err)}`);
        }
    }
    if (ids.size === 0)
        log.info(`No container of lease ${req.lease} is left`);
    if (req.release) {
        try {
            const released = await registry.release({ lease: req.lease });
            log.info(released === null
                ? `Lease ${req.lease} was already gone`
                : `Released lease ${req.lease} (${Object.entries(released.ports)
                    .map(([n, p]) => `${n}=${p}`)
                    .join(' ')})`);
        }
        catch (err) {
            log.warn(`cannot release lease ${req.lease}: ${describeError(err)}`);
        }
    }
    return removed;
}

;// CONCATENATED MODULE: ./src/engines/spec.ts
/**
 * A service container's specification (image, port inside, command, env, options,
 * readiness check, engine, pull policy): parsed and checked from text, the same for the
 * container step's inputs and `portlease service`'s flags. Nothing runs a shell: words are
 * split the way a POSIX shell would split a simple command, and nothing is expanded.
 */

const HEALTH_MODES = ['tcp', 'http', 'docker', 'cmd', 'none'];
const PULL_POLICIES = ['missing', 'always', 'never'];
const DEFAULT_NAME = 'SERVICE_PORT';
const DEFAULT_HEALTH_TIMEOUT = '2m';
function spec_show(value) {
    return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
}
/**
 * Split text into words the way a POSIX shell splits a simple command, without running
 * one: whitespace (including newlines) separates words; '...' keeps everything literally;
 * "..." keeps everything but lets a backslash escape $ ` " \ and newline; a backslash
 * outside quotes escapes the next character (backslash-newline joins lines). Nothing is
 * expanded: no $VARS, globs, ~, ; | & or redirections, which stay literal characters.
 * An unclosed quote or a trailing backslash is a UsageError naming `label`.
 */
function splitShellWords(text, label) {
    const words = [];
    let word = '';
    let inWord = false;
    let i = 0;
    const n = text.length;
    while (i < n) {
        const c = text.charAt(i);
        if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
            if (inWord) {
                words.push(word);
                word = '';
                inWord = false;
            }
            i++;
        }
        else if (c === '\\') {
            if (i + 1 >= n) {
                throw new errors_UsageError(`${label}: ends with a lone backslash; escape it as \\\\ or quote it, like '\\'`);
            }
            const next = text.charAt(i + 1);
            if (next === '\n') {
                i += 2; // line continuation
                continue;
            }
            word += next;
            inWord = true;
            i += 2;
        }
        else if (c === "'") {
            const end = text.indexOf("'", i + 1);
            if (end < 0) {
                throw new errors_UsageError(`${label}: unclosed ' quote starting at ${spec_show(text.slice(i, i + 30))}; close it, or escape the quote as \\'`);
            }
            word += text.slice(i + 1, end);
            inWord = true;
            i = end + 1;
        }
        else if (c === '"') {
            let j = i + 1;
            let closed = false;
            while (j < n) {
                const d = text.charAt(j);
                if (d === '"') {
                    closed = true;
                    break;
                }
                if (d === '\\' && j + 1 < n) {
                    const e = text.charAt(j + 1);
                    if (e === '\n') {
                        j += 2;
                        continue;
                    }
                    if (e === '$' || e === '`' || e === '"' || e === '\\') {
                        word += e;
                        j += 2;
                        continue;
                    }
                }
                word += d;
                j++;
            }
            if (!closed) {
                throw new errors_UsageError(`${label}: unclosed " quote starting at ${spec_show(text.slice(i, i + 30))}; close it, or escape the quote as \\"`);
            }
            inWord = true;
            i = j + 1;
        }
        else {
            word += c;
            inWord = true;
            i++;
        }
    }
    if (inWord)
        words.push(word);
    return words;
}
/** `5432` or `5432/tcp`. */
function parseContainerPort(text, label) {
    const t = text.trim();
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(t);
    const accepted = 'give the port the service listens on inside the container, 1-65535, like 5432 or 5432/tcp';
    if (!m)
        throw new errors_UsageError(`${label}: ${spec_show(text)} is not a port; ${accepted}`);
    if (m[2] !== undefined && m[2].toLowerCase() !== 'tcp') {
        throw new errors_UsageError(`${label}: ${spec_show(text)}: only TCP ports can be leased; ${accepted}`);
    }
    const port = Number(m[1]);
    if (port < 1 || port > 65535) {
        throw new errors_UsageError(`${label}: ${spec_show(text)} is outside 1-65535; ${accepted}`);
    }
    return port;
}
/** Multiline KEY=VALUE (blank lines and lines starting with # skipped). */
function parseEnvLines(text, label) {
    const out = [];
    const seen = new Set();
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#'))
            continue;
        const eq = line.indexOf('=');
        const accepted = 'one KEY=VALUE per line, KEY a valid variable name like POSTGRES_PASSWORD';
        if (eq <= 0)
            throw new errors_UsageError(`${label}: ${spec_show(line)} is not KEY=VALUE; ${accepted}`);
        const key = line.slice(0, eq).trim();
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
            throw new errors_UsageError(`${label}: ${spec_show(key)} is not a valid variable name; ${accepted}`);
        }
        if (seen.has(key))
            throw new errors_UsageError(`${label}: ${spec_show(key)} is set twice`);
        seen.add(key);
        out.push([key, raw.slice(raw.indexOf('=') + 1).trim()]);
    }
    return out;
}
/** An image reference: no whitespace or control characters, not an option. */
function checkImage(text, label) {
    const t = text.trim();
    if (t === '') {
        throw new errors_UsageError(`${label}: required; name the image to run, like postgres:16 or redis:7`);
    }
    // eslint-disable-next-line no-control-regex
    if (t.startsWith('-') || /[\s\u0000-\u001f\u007f]/.test(t) || t.length > 512) {
        throw new errors_UsageError(`${label}: ${spec_show(t)} is not an image reference; name one like postgres:16, ghcr.io/owner/app:1.2 or an image id`);
    }
    return t;
}
function oneOf(text, label, allowed, fallback) {
    const t = text.trim();
    if (t === '')
        return fallback;
    if (allowed.includes(t))
        return t;
    throw new errors_UsageError(`${label}: ${spec_show(text)} is not accepted; use ${allowed.join(', ')}`);
}
/**
 * Check the service inputs; `label` names each input as the caller's user knows it (the
 * step's input name, or the CLI's --flag).
 */
function parseServiceSpec(raw, label = (i) => i) {
    /** `health: cmd` for a step input, `--health cmd` for a CLI flag. */
    const setting = (input, value) => {
        const l = label(input);
        return l.startsWith('-') ? `${l} ${value}` : `${l}: ${value}`;
    };
    const image = checkImage(raw.image, label('image'));
    if (raw['container-port'].trim() === '') {
        throw new errors_UsageError(`${label('container-port')}: required; give the port the service listens on inside the container, like 5432`);
    }
    const containerPort = parseContainerPort(raw['container-port'], label('container-port'));
    const args = splitShellWords(raw.args, label('args'));
    const name = checkName(raw.name.trim() === '' ? DEFAULT_NAME : raw.name.trim(), label('name'));
    const env = parseEnvLines(raw.env, label('env'));
    const options = splitShellWords(raw.options, label('options'));
    const healthCmd = splitShellWords(raw['health-cmd'], label('health-cmd'));
    const health = oneOf(raw.health, label('health'), HEALTH_MODES, healthCmd.length > 0 ? 'cmd' : 'tcp');
    if (health === 'cmd' && healthCmd.length === 0) {
        throw new errors_UsageError(`${label('health-cmd')}: required with ${setting('health', 'cmd')}; give the command to run in the container, like pg_isready -U postgres`);
    }
    if (health !== 'cmd' && healthCmd.length > 0) {
        throw new errors_UsageError(`${label('health-cmd')}: only used with ${setting('health', 'cmd')}, but ${label('health')} is ${health}; drop ${label('health-cmd')} or set ${setting('health', 'cmd')}`);
    }
    const healthTimeoutMs = parseDuration(raw['health-timeout'].trim() === '' ? DEFAULT_HEALTH_TIMEOUT : raw['health-timeout'], label('health-timeout'), { max: 6 * 3_600_000 });
    const engine = oneOf(raw.engine, label('engine'), ['docker', 'podman', 'auto'], 'auto');
    const pull = oneOf(raw.pull, label('pull'), PULL_POLICIES, 'missing');
    for (const o of options) {
        if (/^(--rm|--publish|--publish-all|-p|-P)(=|$)|^-p./.test(o)) {
            throw new errors_UsageError(`${label('options')}: ${spec_show(o)} is not accepted: portlease publishes the container port on the leased port itself (other published ports would not be leased) and removes the container when done; drop it`);
        }
    }
    return {
        image,
        containerPort,
        args,
        name,
        env,
        options,
        health,
        healthCmd,
        healthTimeoutMs,
        engine,
        pull,
    };
}

;// CONCATENATED MODULE: ./src/cli/service.ts




/** The service flags, as parseArgs options (merged with the allocate flags by the CLI). */
const SERVICE_OPTIONS = {
    image: { type: 'string' },
    'container-port': { type: 'string' },
    args: { type: 'string' },
    env: { type: 'string', multiple: true },
    options: { type: 'string' },
    health: { type: 'string' },
    'health-cmd': { type: 'string' },
    'health-timeout': { type: 'string' },
    engine: { type: 'string' },
    pull: { type: 'string' },
};
function service_text(values, name) {
    const v = values[name];
    return typeof v === 'string' ? v : '';
}
/** Lines on stderr, prefixed; phases as a heading line. */
function cliLog(io) {
    return {
        info: (msg) => {
            io.err(`portlease: ${msg}`);
        },
        warn: (msg) => {
            io.err(`portlease: warning: ${msg}`);
        },
        group: (title, fn) => {
            io.err(`portlease: ${title}`);
            return fn();
        },
        untrusted: (t) => {
            for (const line of t.replace(/\n$/, '').split('\n'))
                io.err(`  | ${line}`);
        },
    };
}
async function cmdService(ctx) {
    const { values, positionals, io } = ctx;
    if (positionals.length > 1) {
        throw new errors_UsageError(`service: one NAME (the variable for the host port, like PG_PORT), got ${positionals.length}: ${positionals.join(' ')}`);
    }
    const envList = values.env;
    for (const kv of Array.isArray(envList) ? envList : []) {
        if (kv.includes('\n'))
            throw new errors_UsageError('--env: a value must be one line');
    }
    const raw = {
        image: service_text(values, 'image'),
        'container-port': service_text(values, 'container-port'),
        args: service_text(values, 'args'),
        name: positionals[0] ?? '',
        env: Array.isArray(envList) ? envList.join('\n') : '',
        options: service_text(values, 'options'),
        health: service_text(values, 'health'),
        'health-cmd': service_text(values, 'health-cmd'),
        'health-timeout': service_text(values, 'health-timeout'),
        engine: service_text(values, 'engine'),
        pull: service_text(values, 'pull'),
    };
    const spec = parseServiceSpec(raw, (i) => (i === 'name' ? 'NAME' : `--${i}`));
    const req = ctx.request([spec.name]);
    const engine = await ContainerEngine.choose(spec.engine, { env: io.env, label: '--engine' });
    const log = cliLog(io);
    const { lease, reused } = await ctx.registry.allocate({
        ...req,
        labels: { ...(req.labels ?? {}), image: spec.image.slice(0, 200) },
    });
    const port = lease.ports[spec.name];
    let container = null;
    const stop = () => stopService(engine, ctx.registry, { lease: lease.id, container, release: !reused }, log);
    // A signal while the container starts: clean up, then end with 128+N.
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const got = { signal: null };
    const onSignal = (sig) => {
        got.signal ??= sig;
    };
    for (const s of signals)
        process.on(s, onSignal);
    try {
        try {
            await startService(engine, spec, { id: lease.id, registry: ctx.registry.dir, port, labels: {} }, log, (id) => {
                container = id;
            });
        }
        catch (err) {
            await stop();
            throw err;
        }
        if (got.signal !== null) {
            await stop();
            return 128 + signalNumber(got.signal);
        }
        if (ctx.command.length === 0) {
            io.out(JSON.stringify({
                lease: lease.id,
                key: lease.key,
                name: spec.name,
                port,
                container,
                engine: engine.name,
                image: spec.image,
                registry: ctx.registry.dir,
                expires: lease.expires,
            }));
            return 0;
        }
    }
    finally {
        for (const s of signals)
            process.off(s, onSignal);
    }
    try {
        return await ctx.runCommand(ctx.command, { ...io.env, [spec.name]: String(port), PORTLEASE_LEASE: lease.id }, lease);
    }
    finally {
        await stop();
    }
}
function signalNumber(sig) {
    return { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig];
}

;// CONCATENATED MODULE: ./src/cli/write.ts
/**
 * `--write FILE`: the leased ports written atomically (temp file in the same directory,
 * fsync, rename), as `NAME=PORT` lines when FILE's name ends in `.env`, else as one flat
 * JSON object `{"NAME": port}`. The target is checked before anything is leased.
 */





/** Check FILE: a writable directory to put it in, not a directory itself. Touches nothing. */
function checkWriteTarget(text, label) {
    const show = JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text);
    if (text.trim() === '' || CONTROL_CHARS.test(text)) {
        throw new errors_UsageError(`${label}: ${show} is not a file name; name a file like ports.json or ports.env`);
    }
    const path = (0,external_node_path_namespaceObject.resolve)(text);
    const dir = (0,external_node_path_namespaceObject.dirname)(path);
    try {
        if (!(0,external_node_fs_namespaceObject.statSync)(dir).isDirectory()) {
            throw new errors_UsageError(`${label}: ${dir} is not a directory; name a file in an existing directory`);
        }
        (0,external_node_fs_namespaceObject.accessSync)(dir, external_node_fs_namespaceObject.constants.W_OK);
    }
    catch (err) {
        if (err instanceof errors_UsageError)
            throw err;
        const code = errnoCode(err);
        throw new errors_UsageError(`${label}: ${code === 'ENOENT' || code === 'ENOTDIR' ? `directory ${dir} does not exist` : `cannot write in ${dir} (${code ?? 'error'})`}; name a file in an existing, writable directory`);
    }
    try {
        if ((0,external_node_fs_namespaceObject.statSync)(path).isDirectory()) {
            throw new errors_UsageError(`${label}: ${path} is a directory; name a file`);
        }
    }
    catch (err) {
        if (err instanceof errors_UsageError)
            throw err;
        // absent: it will be created
    }
    return { path, format: (0,external_node_path_namespaceObject.basename)(path).endsWith('.env') ? 'env' : 'json' };
}
function formatPorts(ports, format) {
    if (format === 'env') {
        return Object.entries(ports)
            .map(([n, p]) => `${n}=${p}\n`)
            .join('');
    }
    return JSON.stringify(ports) + '\n';
}
/** Write the ports to the target atomically. Throws RuntimeError (one line) on failure. */
function writePorts(target, ports) {
    try {
        // The registry's own atomic write: temp file beside it, fsync, rename.
        writeAtomic(target.path, formatPorts(ports, target.format), 0o644);
    }
    catch (err) {
        throw new RuntimeError(`--write: cannot write ${target.path}: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}`);
    }
}

;// CONCATENATED MODULE: ./src/cli/main.ts
/**
 * The `portlease` command: a thin shell over the registry (src/core).
 */
 // first: SIGUSR1 must never start the inspector















/**
 * Write to stdout synchronously, so a failed write (a closed pipe, /dev/full) is an error
 * here, at the call, not an 'error' event later with a stack trace.
 */
function writeStdout(text) {
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) {
        try {
            off += (0,external_node_fs_namespaceObject.writeSync)(1, buf, off);
        }
        catch (err) {
            if (errnoCode(err) !== 'EAGAIN')
                throw err;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a non-blocking pipe: wait, retry
        }
    }
}
const defaultIo = {
    out: (line) => {
        writeStdout(line + '\n');
    },
    err: (line) => process.stderr.write(line + '\n'),
    env: process.env,
};
const DEFAULT_GRACE_MS = 5_000;
const COMMON = {
    registry: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
};
const ALLOCATE = {
    ...COMMON,
    count: { type: 'string' },
    range: { type: 'string' },
    contiguous: { type: 'boolean' },
    key: { type: 'string' },
    strategy: { type: 'string' },
    ttl: { type: 'string' },
    owner: { type: 'string' },
    'owner-pid': { type: 'string' },
    wait: { type: 'string' },
    'allow-ephemeral': { type: 'boolean' },
    write: { type: 'string' },
    json: { type: 'boolean' },
};
const COMMANDS = {
    allocate: ALLOCATE,
    service: {
        ...Object.fromEntries(Object.entries(ALLOCATE).filter(([k]) => k !== 'json' && k !== 'count')),
        ...SERVICE_OPTIONS,
    },
    exec: {
        ...Object.fromEntries(Object.entries(ALLOCATE).filter(([k]) => !['owner', 'owner-pid', 'json'].includes(k))),
        grace: { type: 'string' },
        listen: { type: 'boolean' },
        'listen-host': { type: 'string' },
        portserver: { type: 'boolean' },
    },
    portserver: { ...COMMON, ...PORTSERVER_OPTIONS },
    release: { ...COMMON, key: { type: 'string' }, lease: { type: 'string' } },
    list: { ...COMMON, json: { type: 'boolean' } },
    gc: { ...COMMON, 'dry-run': { type: 'boolean' } },
    serve: {
        ...COMMON,
        socket: { type: 'string' },
        idle: { type: 'string' },
        'exit-on-eof': { type: 'boolean' },
    },
};
function main_parse(command, args) {
    const options = COMMANDS[command] ?? COMMON;
    try {
        const { values, positionals } = (0,external_node_util_namespaceObject.parseArgs)({
            args,
            options,
            allowPositionals: true,
            strict: true,
        });
        return { values: values, positionals };
    }
    catch (err) {
        throw parseError(command, err, args, options);
    }
}
/**
 * One line for a parseArgs error, decided by its code (never by Node's English wording):
 * the option is named, and for a value error the option's own type says what was wrong.
 */
function parseError(command, err, args, options) {
    const message = describeError(err);
    const opt = /'(--?[\w-]+)/.exec(message)?.[1] ?? '';
    switch (errnoCode(err)) {
        case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
            return new errors_UsageError(`${command}: unknown option ${opt}; see 'portlease ${command} --help'`);
        case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
            const def = opt.startsWith('--')
                ? options[opt.slice(2)]
                : Object.values(options).find((o) => `-${o.short ?? ''}` === opt);
            if (def?.type === 'boolean')
                return new errors_UsageError(`${opt}: takes no value`);
            const next = args[args.indexOf(opt) + 1];
            return new errors_UsageError(next?.startsWith('-') === true
                ? `${opt}: needs a value; to give one that starts with '-', write ${opt}=VALUE`
                : `${opt}: needs a value`);
        }
        default:
            return new errors_UsageError(`${command}: ${message}`);
    }
}
/** parse() for a command with a `-- COMMAND [ARGS...]` tail: its options, and the command after `--`. */
function parseWithCommand(command, args) {
    const dash = args.indexOf('--');
    const { values, positionals } = main_parse(command, dash < 0 ? args : args.slice(0, dash));
    return { values, positionals, tail: dash < 0 ? null : args.slice(dash + 1) };
}
/** parse() for a command that takes options only. */
function parseFlags(command, args) {
    const { values, positionals } = main_parse(command, args);
    if (values.help !== true && positionals.length > 0) {
        throw new errors_UsageError(`${command}: unexpected argument ${JSON.stringify(positionals[0])}`);
    }
    return values;
}
function writeTarget(values) {
    const text = args_str(values, 'write');
    return text === undefined ? undefined : checkWriteTarget(text, '--write');
}
async function cmdAllocate(args, io) {
    const { values, positionals } = main_parse('allocate', args);
    if (values.help)
        return help('allocate', io);
    const choice = ownerFrom(values, io);
    const req = allocateRequest(values, positionals, choice);
    const target = writeTarget(values);
    const registry = registryFrom(values, io);
    if (debugEnabled(io.env))
        io.err(`portlease: debug: ${choice.describe}`);
    const { lease, reused } = await registry.allocate(req);
    const ports = askedPorts(lease, req.names);
    if (target !== undefined) {
        try {
            writePorts(target, ports);
        }
        catch (err) {
            if (!reused)
                await registry.release({ lease: lease.id });
            throw err;
        }
    }
    const text = values.json
        ? JSON.stringify(leaseJson(lease, { reused }, ports))
        : Object.entries(ports)
            .map(([name, port]) => `${name}=${port}`)
            .join('\n');
    try {
        io.out(text);
    }
    catch (err) {
        // Nobody learnt the ports: a lease made for nothing would only keep them from others.
        let what = `lease ${lease.id} was there before and stays`;
        if (!reused) {
            try {
                await registry.release({ lease: lease.id });
                what = `released lease ${lease.id}`;
            }
            catch {
                what = `lease ${lease.id} could not be released either; it ends with its owner or TTL`;
            }
        }
        throw new RuntimeError(`stdout: cannot write the ports (${errnoCode(err) ?? describeError(err)}); ${what}`);
    }
    return 0;
}
async function cmdRelease(args, io) {
    const { values, positionals } = main_parse('release', args);
    if (values.help)
        return help('release', io);
    if (positionals.length > 0) {
        throw new errors_UsageError(`release: unexpected argument ${JSON.stringify(positionals[0])}; use --key KEY or --lease ID`);
    }
    const key = args_str(values, 'key');
    const id = args_str(values, 'lease');
    if ((key === undefined) === (id === undefined)) {
        throw new errors_UsageError('release: give exactly one of --key KEY or --lease ID');
    }
    const sel = key !== undefined
        ? { key: checkKey(key, '--key') }
        : { lease: checkLeaseId(id ?? '', '--lease') };
    const registry = registryFrom(values, io);
    const lease = await registry.release(sel);
    // A service container started for this lease (`portlease service`) goes with it.
    const leaseId = lease?.id ?? ('lease' in sel ? sel.lease : undefined);
    if (leaseId !== undefined) {
        const removed = await removeLeaseContainers(leaseId, {
            registry: registry.dir,
            env: io.env,
            warn: (m) => {
                io.err(`portlease: warning: ${m}`);
            },
        });
        for (const id of removed)
            io.err(`portlease: removed container ${id.slice(0, 12)}`);
    }
    if (lease === null) {
        io.err(`portlease: no live lease with ${key !== undefined ? `key ${JSON.stringify(key)}` : `id ${id}`}; nothing to release`);
    }
    else {
        io.err(`portlease: released ${lease.id} (${Object.entries(lease.ports)
            .map(([n, p]) => `${n}=${p}`)
            .join(' ')})`);
    }
    return 0;
}
function table(rows) {
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    return rows.map((r) => r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd());
}
function expiresIn(expires) {
    if (expires === null)
        return 'never';
    const ms = Date.parse(expires) - Date.now();
    if (ms < 60_000)
        return `${Math.max(0, Math.round(ms / 1000))}s`;
    if (ms < 3_600_000)
        return `${Math.round(ms / 60_000)}m`;
    if (ms < 86_400_000)
        return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
    return `${Math.round(ms / 86_400_000)}d`;
}
async function cmdList(args, io) {
    const values = parseFlags('list', args);
    if (values.help)
        return help('list', io);
    const registry = registryFrom(values, io);
    const leases = await registry.list();
    if (values.json) {
        io.out(JSON.stringify(leases.map((s) => leaseJson(s.lease, { liveness: s.liveness })), null, 2));
        return 0;
    }
    if (leases.length === 0) {
        io.out(`no live leases in ${registry.dir}`);
        return 0;
    }
    const rows = [['LEASE', 'KEY', 'PORTS', 'OWNER', 'EXPIRES IN']];
    for (const { lease, liveness } of leases) {
        const key = lease.key.length > 40 ? lease.key.slice(0, 39) + '…' : lease.key;
        rows.push([
            lease.id,
            key,
            Object.entries(lease.ports)
                .map(([n, p]) => `${n}=${p}`)
                .join(' '),
            describeOwner(lease.owner, { names: true }) +
                (liveness === 'unknown' ? ' (unverifiable)' : ''),
            expiresIn(lease.expires),
        ]);
    }
    for (const line of table(rows))
        io.out(line);
    return 0;
}
async function cmdGc(args, io) {
    const values = parseFlags('gc', args);
    if (values.help)
        return help('gc', io);
    const registry = registryFrom(values, io);
    const dry = values['dry-run'] === true;
    const report = await registry.gc({ dryRun: dry });
    for (const { lease, reason } of report.removed) {
        io.out(`${dry ? 'would remove' : 'removed'} ${lease.id} key ${JSON.stringify(lease.key)} (${Object.values(lease.ports).join(',')}): ${reason}`);
    }
    io.out(`${report.removed.length} lease${report.removed.length === 1 ? '' : 's'} ${dry ? 'would be removed' : 'removed'}, ${report.live.length} live`);
    // Containers labelled portlease.lease=<id> whose lease is no longer live (a runner that died mid-job).
    // The live set is read after the containers are listed (see removeOrphanContainers). A read
    // that found damage may have lost live leases: then no container is judged an orphan.
    const damaged = 'the registry had damaged records (see quarantine/; some leases may be lost), so no container was removed this time';
    if (report.damaged) {
        io.err(`portlease: warning: ${damaged}`);
        return 0;
    }
    const orphans = await removeOrphanContainers(async () => {
        const state = await registry.listState();
        if (!state.damaged)
            return state.leases.map((s) => s.lease.id);
        io.err(`portlease: warning: ${damaged}`);
        return null;
    }, {
        dryRun: dry,
        registry: registry.dir,
        env: io.env,
        warn: (m) => {
            io.err(`portlease: warning: ${m}`);
        },
    });
    for (const c of orphans) {
        if (dry || c.removed) {
            io.out(`${dry ? 'would remove' : 'removed'} ${c.engine} container ${c.id.slice(0, 12)}${c.name ? ` (${c.name})` : ''}: lease ${c.lease} is not live`);
        }
    }
    if (orphans.length > 0) {
        const n = dry ? orphans.length : orphans.filter((c) => c.removed).length;
        io.out(`${n} orphan container${n === 1 ? '' : 's'} ${dry ? 'would be removed' : 'removed'}`);
    }
    return 0;
}
async function cmdExec(args, io) {
    const { values, positionals, tail } = parseWithCommand('exec', args);
    if (values.help)
        return help('exec', io);
    const command = tail ?? [];
    if (command.length === 0) {
        throw new errors_UsageError("exec: no command given; put it after '--', like: portlease exec WEB_PORT -- npm test");
    }
    const hostText = args_str(values, 'listen-host');
    if (hostText !== undefined && values.listen !== true) {
        throw new errors_UsageError('--listen-host: only with --listen');
    }
    const listenHost = parseListenHost(hostText ?? DEFAULT_LISTEN_HOST, '--listen-host');
    const graceText = args_str(values, 'grace');
    const graceMs = graceText === undefined
        ? DEFAULT_GRACE_MS
        : parseDuration(graceText, '--grace', { allowZero: true, max: 3_600_000 });
    // Owned by the tree exec supervises: exec itself, its command's session once it runs, and
    // every process carrying PORTLEASE_LEASE=<id>. Never a renewal of someone else's lease.
    if (positionals.length === 0 && args_str(values, 'count') === undefined) {
        if (values.portserver !== true) {
            throw new errors_UsageError("exec: no port names given; name at least one (like WEB_PORT), use --count N, or --portserver (portpicker's clients only)");
        }
        return execPortserverOnly({
            values,
            command,
            graceMs,
            registry: () => registryFrom(values, io, SERVER_BUSY_PORTS_MAX_AGE_MS),
            io,
        });
    }
    const tree = treeOwner();
    const req = {
        ...allocateRequest(values, positionals, {
            owner: tree,
            describe: 'exec tree',
            explicit: false,
        }),
        renew: {},
    };
    const target = writeTarget(values);
    const registry = registryFrom(values, io);
    // A host that cannot be listened on is bad input: refused before any lease is taken.
    if (values.listen === true)
        await checkListenHost(listenHost, '--listen-host');
    const { lease, reused } = await registry.allocate(req);
    const ports = askedPorts(lease, req.names);
    // With the default TTL, the lease is renewed while exec runs: a dev server may run for
    // days. An explicit --ttl is a hard bound. (After a SIGKILL of exec the last renewal's
    // TTL still bounds a tree that cannot be judged from here.)
    const stopRenewal = reused || args_str(values, 'ttl') !== undefined
        ? undefined
        : renewWhileHeld(registry, lease.id, DEFAULT_TTL_MS, (message) => {
            io.err(`portlease: warning: exec: ${message}`);
        }, io.env);
    let status;
    let leftovers;
    let portserver;
    try {
        if (target !== undefined)
            writePorts(target, ports);
        portserver =
            values.portserver === true
                ? await startExecPortserver({
                    registry,
                    range: req.range,
                    allowEphemeral: req.allowEphemeral === true,
                    tag: reused ? undefined : lease.id, // a shared key's lease: its own address
                    io,
                })
                : undefined;
        const shown = Object.entries(ports)
            .map(([n, p]) => `${n}=${p}`)
            .join(' ');
        io.err(reused
            ? `portlease: exec: ${shown} (live lease ${lease.id} of key ${JSON.stringify(lease.key)}, owner ${describeOwner(lease.owner)}; left as it is)`
            : `portlease: exec: ${shown} (lease ${lease.id})`);
        // --listen: the leased ports bound here, while the lease is held, and handed over as
        // fds 3, 4, ... (systemd's protocol): no other process can take them from now on.
        const listeners = values.listen === true ? await bindListeners(Object.entries(ports), listenHost) : null;
        const [file, ...rest] = (listeners?.wrap(command) ?? command);
        ({ status, leftovers } = await supervise({
            file,
            args: rest,
            env: {
                ...io.env,
                ...Object.fromEntries(Object.entries(ports).map(([n, p]) => [n, String(p)])),
                ...(listeners?.env ?? {}),
                ...(portserver?.env ?? {}),
                PORTLEASE_LEASE: lease.id,
            },
            fds: listeners?.stdio,
            graceMs,
            cookie: reused ? null : lease.id,
            onSpawn: async (sid) => {
                // The command holds its own copies now: this process keeps none.
                await listeners?.close();
                if (reused)
                    return;
                try {
                    await registry.update(lease.id, { owner: { ...tree, sid } });
                }
                catch (err) {
                    io.err(`portlease: warning: exec: could not record the command's session in the lease (${err instanceof Error ? err.message : String(err)}); it stays owned by this process and PORTLEASE_LEASE carriers`);
                }
            },
            err: io.err,
        }));
    }
    catch (err) {
        stopRenewal?.();
        await portserver?.close();
        if (!reused)
            await registry.release({ lease: lease.id });
        throw err;
    }
    await portserver?.close();
    stopRenewal?.();
    if (reused)
        return status;
    if (leftovers.length > 0) {
        io.err(`portlease: warning: exec: ${leftovers.length} process${leftovers.length === 1 ? '' : 'es'} of the command's tree did not exit after SIGKILL (${leftovers.slice(0, 10).join(', ')}); lease ${lease.id} stays until they are gone`);
        return status;
    }
    try {
        await registry.release({ lease: lease.id });
    }
    catch (err) {
        io.err(`portlease: warning: exec: could not release ${lease.id}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; it ends once its tree is gone (portlease gc)`);
    }
    return status;
}
async function cmdPortserverArgs(args, io) {
    const values = parseFlags('portserver', args);
    if (values.help)
        return help('portserver', io);
    return cmdPortserver(values, io, () => registryFrom(values, io, SERVER_BUSY_PORTS_MAX_AGE_MS));
}
async function cmdServiceArgs(args, io) {
    const { values, positionals, tail } = parseWithCommand('service', args);
    if (values.help)
        return help('service', io);
    const command = tail ?? [];
    if (tail !== null && command.length === 0) {
        throw new errors_UsageError("service: no command after '--'; give one (like -- pytest), or leave out '--' to start the service and detach");
    }
    const registry = registryFrom(values, io);
    // Detached: the default owner (or --owner), like allocate. With COMMAND: the tree, like exec.
    const tree = treeOwner();
    const choice = command.length > 0
        ? { owner: tree, describe: 'exec tree', explicit: false }
        : ownerFrom(values, io);
    return cmdService({
        values,
        positionals,
        command,
        io,
        registry,
        request: (names) => allocateRequest(values, names, choice),
        runCommand: async (cmd, env, lease) => {
            const [file, ...rest] = cmd;
            const { status } = await supervise({
                file,
                args: rest,
                env,
                graceMs: DEFAULT_GRACE_MS,
                cookie: lease.id,
                onSpawn: async (sid) => {
                    try {
                        await registry.update(lease.id, { owner: { ...tree, sid } });
                    }
                    catch {
                        // it stays owned by this process and the PORTLEASE_LEASE carriers
                    }
                },
                err: io.err,
            });
            return status;
        },
    });
}
function help(command, io) {
    io.out(HELP[command] ?? HELP.main ?? '');
    return 0;
}
const COMMAND_RUNNERS = {
    allocate: cmdAllocate,
    release: cmdRelease,
    list: cmdList,
    gc: cmdGc,
    exec: cmdExec,
    service: cmdServiceArgs,
    serve: async (args, io) => {
        const values = parseFlags('serve', args);
        return values.help ? help('serve', io) : cmdServe(values, io);
    },
    portserver: cmdPortserverArgs,
};
/** Run the CLI; returns the exit status. Never throws. */
async function runCli(argv, io = defaultIo) {
    const [command, ...rest] = argv;
    try {
        switch (command) {
            case undefined:
                io.err(HELP.main ?? '');
                return 2;
            case '--help':
            case '-h':
            case 'help':
                return help(rest[0] ?? 'main', io);
            case '--version':
            case '-V':
            case 'version':
                io.out(VERSION);
                return 0;
            default: {
                const run = Object.hasOwn(COMMAND_RUNNERS, command) ? COMMAND_RUNNERS[command] : undefined;
                if (run !== undefined)
                    return await run(rest, io);
                throw new errors_UsageError(`unknown command ${JSON.stringify(command)}; use allocate, release, list, gc, exec, service, serve or portserver (portlease --help)`);
            }
        }
    }
    catch (err) {
        if (err instanceof PortleaseError) {
            io.err(`portlease: ${err.message}`);
            return err instanceof errors_UsageError ? 2 : 1;
        }
        io.err(`portlease: unexpected error: ${describeError(err)}`);
        // The whole stack only when asked for (with NODE_OPTIONS=--enable-source-maps it names
        // the TypeScript sources: dist/ ships its source maps).
        if (debugEnabled(io.env) && err instanceof Error && err.stack !== undefined)
            io.err(err.stack);
        else
            io.err('portlease: set PORTLEASE_DEBUG=1 to see where it happened');
        return 1;
    }
}


/***/ }),

/***/ 921:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _cli_main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(680);

process.exitCode = await (0,_cli_main_js__WEBPACK_IMPORTED_MODULE_0__/* .runCli */ .a)(process.argv.slice(2));

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 421:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:child_process");

/***/ }),

/***/ 67:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:http");

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId](module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/create fake namespace object */
/******/ (() => {
/******/ 	var getProto = Object.getPrototypeOf ? (obj) => (Object.getPrototypeOf(obj)) : (obj) => (obj.__proto__);
/******/ 	var leafPrototypes;
/******/ 	// create a fake namespace object
/******/ 	// mode & 1: value is a module id, require it
/******/ 	// mode & 2: merge all properties of value into the ns
/******/ 	// mode & 4: return value when already ns object
/******/ 	// mode & 16: return value when it's Promise-like
/******/ 	// mode & 8|1: behave like require
/******/ 	__nccwpck_require__.t = function(value, mode) {
/******/ 		if(mode & 1) value = this(value);
/******/ 		if(mode & 8) return value;
/******/ 		if(typeof value === 'object' && value) {
/******/ 			if((mode & 4) && value.__esModule) return value;
/******/ 			if((mode & 16) && typeof value.then === 'function') return value;
/******/ 		}
/******/ 		var ns = Object.create(null);
/******/ 		__nccwpck_require__.r(ns);
/******/ 		var def = {};
/******/ 		leafPrototypes = leafPrototypes || [null, getProto({}), getProto([]), getProto(getProto)];
/******/ 		for(var current = mode & 2 && value; typeof current == 'object' && !~leafPrototypes.indexOf(current); current = getProto(current)) {
/******/ 			Object.getOwnPropertyNames(current).forEach((key) => (def[key] = () => (value[key])));
/******/ 		}
/******/ 		def['default'] = () => (value);
/******/ 		__nccwpck_require__.d(ns, def);
/******/ 		return ns;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(921);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 

//# sourceMappingURL=index.js.map