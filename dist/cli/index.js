#!/usr/bin/env node
import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 115:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  a: () => (/* binding */ main_runCli)
});

;// CONCATENATED MODULE: external "node:util"
const external_node_util_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:util");
;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
;// CONCATENATED MODULE: external "node:timers/promises"
const promises_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:timers/promises");
;// CONCATENATED MODULE: ./src/registry/allocate.ts
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

;// CONCATENATED MODULE: ./src/registry/errors.ts
/**
 * Errors the engine raises on purpose. Every message is one line meant for a person:
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
/** The errno code of a Node system error, or undefined. */
function errnoCode(err) {
    if (typeof err === 'object' && err !== null && 'code' in err) {
        const code = err.code;
        return typeof code === 'string' ? code : undefined;
    }
    return undefined;
}
/** A short, single-line description of any thrown value (never a stack trace). */
function errors_describeError(err) {
    if (err instanceof Error)
        return err.message.split('\n')[0] ?? String(err);
    return String(err).split('\n')[0] ?? 'unknown error';
}

;// CONCATENATED MODULE: ./src/registry/inputs.ts
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
/** One environment-variable-shaped name. */
function checkName(name, label) {
    if (!ENV_NAME.test(name) || name.length > MAX_NAME_LENGTH) {
        throw new errors_UsageError(`${label}: ${show(name)} is not a valid name; use letters, digits and _ , not starting with a digit (like DB_PORT), at most ${MAX_NAME_LENGTH} characters`);
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
/**
 * A duration: `90s`, `15m`, `6h`, `2d`, `500ms`, compound `1h30m`, or bare seconds `300`.
 * `allowZero` lets `0` through (for `--wait 0`). Returns milliseconds.
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
        for (let m = re.exec(t); m !== null; m = re.exec(t)) {
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

;// CONCATENATED MODULE: ./src/registry/store.ts
/**
 * Lease records on disk.
 *
 * The registry directory holds one state file, `leases.json`, replaced as a whole under the
 * lock: written to a temp file, fsynced, renamed over the old one, and the directory fsynced.
 * A crash at any instruction leaves the old file or the new one, never a torn one.
 *
 * Nothing read from disk is trusted. Every record is validated field by field into a fresh
 * object; a record that fails is skipped with a warning and a copy is kept in `quarantine/`
 * for inspection. A state file that does not parse at all is moved to `quarantine/` whole.
 * No path is followed through a symlink (O_NOFOLLOW, lstat).
 */




const STATE_FILE = 'leases.json';
const STATE_VERSION = 1;
/** A state file larger than this is not read (a hostile or broken file must not exhaust memory). */
const MAX_STATE_BYTES = 128 * 1024 * 1024;
/** At most this many files are kept in quarantine/. */
const MAX_QUARANTINE = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
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
function newLeaseId() {
    // 10 base36 characters from 64 random bits.
    return 'pl_' + randomSuffix(10);
}
function isRecord(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
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
    if (v.kind === 'process') {
        if (typeof v.pid === 'number' &&
            Number.isInteger(v.pid) &&
            v.pid >= 1 &&
            nullable(v.start, 32) &&
            nullable(v.boot, 64) &&
            str(v.host, 256) &&
            nullable(v.pidns, 64)) {
            return {
                kind: 'process',
                pid: v.pid,
                start: v.start,
                boot: v.boot,
                host: v.host,
                pidns: v.pidns,
            };
        }
        return undefined;
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
    const id = (x) => typeof x === 'number' && Number.isInteger(x) && x >= 1;
    const uid = (x) => x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
    if (v.kind === 'session') {
        if (id(v.sid) &&
            nullable(v.start, 32) &&
            uid(v.uid) &&
            nullable(v.boot, 64) &&
            str(v.host, 256) &&
            nullable(v.pidns, 64)) {
            return {
                kind: 'session',
                sid: v.sid,
                start: v.start,
                uid: v.uid,
                boot: v.boot,
                host: v.host,
                pidns: v.pidns,
            };
        }
        return undefined;
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
/** Make (or check) the registry directory: never through a symlink, open to every user. */
function ensureRegistryDir(dir) {
    try {
        (0,external_node_fs_namespaceObject.lstatSync)(dir);
    }
    catch (err) {
        if (errnoCode(err) !== 'ENOENT')
            throw registryError(dir, err);
        try {
            (0,external_node_fs_namespaceObject.mkdirSync)(dir, { recursive: true, mode: 0o777 });
            // Not sticky, so any user may rename over what another wrote; umask does not apply.
            (0,external_node_fs_namespaceObject.chmodSync)(dir, 0o777);
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
            return new RuntimeError(`registry ${dir} is not writable by this user${uid}: ${code}. Make it mode 0777 (no sticky bit) or use --registry`);
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
/** Keep a copy of something rejected in quarantine/ (bounded); never throws. */
function quarantine(dir, what, content) {
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
        writeAtomic(path, content);
        return path;
    }
    catch {
        return null;
    }
}
/**
 * Read and validate the state. With `quarantine` (under the lock), rejected records and
 * unparsable files are copied aside; the caller's next write drops them from the state.
 */
function readState(dir, opts) {
    const path = (0,external_node_path_namespaceObject.join)(dir, STATE_FILE);
    let text;
    try {
        const fd = (0,external_node_fs_namespaceObject.openSync)(path, external_node_fs_namespaceObject.constants.O_RDONLY | external_node_fs_namespaceObject.constants.O_NOFOLLOW);
        try {
            const st = (0,external_node_fs_namespaceObject.fstatSync)(fd);
            if (!st.isFile())
                throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
            if (st.size > MAX_STATE_BYTES) {
                throw Object.assign(new Error('too large'), { code: 'EFBIG' });
            }
            text = (0,external_node_fs_namespaceObject.readFileSync)(fd, 'utf8');
        }
        finally {
            (0,external_node_fs_namespaceObject.closeSync)(fd);
        }
    }
    catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT')
            return { leases: [], rejected: 0 };
        if (code === 'ELOOP' || code === 'ENOTFILE' || code === 'EFBIG') {
            opts.warn?.(`registry: ${path} is ${code === 'EFBIG' ? 'too large' : 'not a regular file'}; ignoring it${opts.quarantine ? ' (it will be replaced)' : ''}`);
            if (opts.quarantine && code !== 'ENOTFILE') {
                try {
                    (0,external_node_fs_namespaceObject.renameSync)(path, (0,external_node_path_namespaceObject.join)(dir, `${STATE_FILE}.rejected-${Date.now()}`));
                }
                catch {
                    // the write that follows replaces it anyway
                }
            }
            return { leases: [], rejected: 1 };
        }
        throw registryError(dir, err);
    }
    // Fast path: the file is in serialize's layout; lines this process validated before are
    // reused as they are, the others parsed and validated one by one.
    const lines = recordLines(text);
    let records;
    const reuse = new Map();
    if (lines !== null) {
        records = lines.map((line, i) => {
            const hit = known.get(lineId(line));
            if (hit !== undefined && hit.text === line) {
                reuse.set(i, hit.lease);
                return hit.lease;
            }
            try {
                return JSON.parse(line);
            }
            catch {
                return line; // not a record: rejected below like any other bad record
            }
        });
    }
    else {
        let doc;
        try {
            doc = JSON.parse(text);
        }
        catch {
            doc = undefined;
        }
        if (isRecord(doc) && Array.isArray(doc.leases))
            records = doc.leases;
    }
    if (records === undefined) {
        const kept = opts.quarantine ? quarantine(dir, 'state', text) : null;
        opts.warn?.(`registry: ${path} does not parse as a portlease registry; ignoring it${kept ? `, kept as ${kept}` : ''}`);
        return { leases: [], rejected: 1 };
    }
    const leases = [];
    const ids = new Set();
    const keys = new Set();
    const ports = new Set();
    let rejected = 0;
    const next = new Map();
    for (const [i, raw] of records.entries()) {
        let v = reuse.get(i) ?? validateLease(raw);
        if (typeof v !== 'string') {
            if (ids.has(v.id))
                v = 'duplicate id';
            else if (keys.has(v.key))
                v = 'key held by an earlier record';
            else if (Object.values(v.ports).some((p) => ports.has(p)))
                v = 'port held by an earlier record';
        }
        if (typeof v === 'string') {
            rejected++;
            let content;
            try {
                content = JSON.stringify({ reason: v, record: raw });
            }
            catch {
                content = '{}';
            }
            const kept = opts.quarantine ? quarantine(dir, 'record', content) : null;
            opts.warn?.(`registry: skipped a lease record (${v})${kept ? `; kept as ${kept}` : ''}`);
            continue;
        }
        ids.add(v.id);
        keys.add(v.key);
        for (const p of Object.values(v.ports))
            ports.add(p);
        leases.push(v);
        // The line maps to what validating it gave; when written, a record is written in its
        // own canonical form (textOf), not as the line it came from.
        if (lines !== null)
            remember(next, lines[i] ?? '', v);
    }
    known = next;
    return { leases, rejected };
}
/**
 * Write `content` to `path` atomically: temp file, fsync, rename. A crash of the process or
 * the machine at any point leaves the old file or the new one, whole. The directory is not
 * fsynced: that would only make the rename itself durable across a power loss, and after a
 * reboot every lease's owner is provably dead anyway (another boot id), so an older whole
 * state is as good as the newer one.
 */
function writeAtomic(path, content) {
    const temp = `${path}.tmp.${process.pid}.${randomSuffix(8)}`;
    let fd;
    try {
        fd = (0,external_node_fs_namespaceObject.openSync)(temp, external_node_fs_namespaceObject.constants.O_WRONLY | external_node_fs_namespaceObject.constants.O_CREAT | external_node_fs_namespaceObject.constants.O_EXCL | external_node_fs_namespaceObject.constants.O_NOFOLLOW, 0o666);
        const buf = Buffer.from(content, 'utf8');
        let off = 0;
        while (off < buf.length)
            off += (0,external_node_fs_namespaceObject.writeSync)(fd, buf, off, buf.length - off);
        (0,external_node_fs_namespaceObject.fsyncSync)(fd);
        (0,external_node_fs_namespaceObject.closeSync)(fd);
        fd = undefined;
        (0,external_node_fs_namespaceObject.chmodSync)(temp, 0o666); // readable and replaceable by every user; umask does not apply
        (0,external_node_fs_namespaceObject.renameSync)(temp, path);
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
            (0,external_node_fs_namespaceObject.unlinkSync)(temp);
        }
        catch {
            // never created or already renamed
        }
        throw err;
    }
}
/** Each record's JSON text, made once per record object (records are never mutated). */
const recordText = new WeakMap();
/**
 * Record texts this process validated in its last read or write, with their frozen records:
 * a line of the state file equal to one of these is that record, without parsing or
 * validating it again. Only exact text matches count, so nothing unvalidated gets in.
 */
let known = new Map();
const ID_PREFIX = '{"id":"';
/** The id a canonical record line starts with (a cheap map key; the whole text is compared). */
function lineId(line) {
    if (!line.startsWith(ID_PREFIX))
        return '';
    const end = line.indexOf('"', ID_PREFIX.length);
    return end < 0 ? '' : line.slice(ID_PREFIX.length, end);
}
function remember(into, text, lease) {
    const id = lineId(text);
    if (id !== '')
        into.set(id, { text, lease });
}
function textOf(lease) {
    let text = recordText.get(lease);
    if (text === undefined) {
        text = JSON.stringify(lease);
        recordText.set(lease, text);
    }
    return text;
}
const HEAD = `{"version":${STATE_VERSION},"leases":[\n`;
const TAIL = '\n]}\n';
const EMPTY = `{"version":${STATE_VERSION},"leases":[]}\n`;
/**
 * The state file: plain JSON, one record per line, so a reader can take each line as one
 * record (JSON.stringify never writes a raw newline inside a record).
 */
function serialize(leases) {
    if (leases.length === 0)
        return EMPTY;
    const next = new Map();
    const lines = leases.map((l) => {
        const text = textOf(l);
        remember(next, text, l);
        return text;
    });
    known = next;
    return HEAD + lines.join(',\n') + TAIL;
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
function writeState(dir, leases) {
    try {
        writeAtomic((0,external_node_path_namespaceObject.join)(dir, STATE_FILE), serialize(leases));
    }
    catch (err) {
        throw registryError(dir, err);
    }
}
/** Remove temp files left by writers that were killed between open and rename. */
function sweepTemps(dir, olderThanMs = 60_000) {
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
        if (!n.startsWith(`${STATE_FILE}.tmp.`))
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

;// CONCATENATED MODULE: external "node:os"
const external_node_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:os");
;// CONCATENATED MODULE: ./src/registry/proc.ts
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

;// CONCATENATED MODULE: ./src/registry/owner.ts
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
 * Linux gives all of this through /proc. Elsewhere (macOS, Windows) only pid existence is
 * known (`process.kill(pid, 0)`), start time and boot id are null, and TTL does the rest.
 */






let cachedBoot;
let cachedPidns;
function bootId() {
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
 * The start time of `pid` from /proc, GONE if no such process, or null where /proc
 * cannot tell (not Linux, or /proc not mounted).
 */
function processStartTime(pid) {
    let stat;
    try {
        stat = (0,external_node_fs_namespaceObject.readFileSync)(`/proc/${pid}/stat`, 'utf8');
    }
    catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ESRCH') {
            // No /proc/PID: gone, unless there is no /proc at all.
            return procMounted() ? GONE : null;
        }
        return null;
    }
    // Field 2 (comm) is in parentheses and may hold spaces and ')': split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
    const start = rest[19];
    if (rest[0] === 'Z')
        return GONE; // a zombie has exited: it holds nothing
    return start !== undefined && /^\d+$/.test(start) ? start : null;
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
function pidExists(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (err) {
        return errnoCode(err) === 'EPERM';
    }
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
        start = processStartTime(owner.pid);
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

;// CONCATENATED MODULE: ./src/registry/lock.ts
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
 *                        identity (pid, start time, boot id, host, pid namespace)
 *   g000000000041.done   created when that holder releases
 *
 * The lock is held by the creator of the highest generation while it has no `.done`. To
 * acquire, a process finds the highest generation G; if it is released, or its holder is
 * provably dead (owner.ts), or unverifiable and older than `unverifiableStaleMs`, it links
 * generation G+1. link() fails with EEXIST for all but one contender, so two processes that
 * find the same stale lock can never both win. After winning, the holder checks that no
 * higher generation exists (a contender working from an old listing may have recreated an
 * already cleaned-up number: it then sees the higher one and backs off), and removes the
 * generations below its own. The highest generation is never removed.
 */






const GEN = /^g(\d{12})$/;
const DONE = /^g(\d{12})\.done$/;
const TEMP = /^t\.(\d+)\.[0-9a-z]+$/;
const genName = (g) => `g${String(g).padStart(12, '0')}`;
function list(dir) {
    const names = (0,external_node_fs_namespaceObject.readdirSync)(dir);
    let max = 0;
    const done = new Set();
    for (const n of names) {
        let m = GEN.exec(n);
        if (m) {
            max = Math.max(max, Number(m[1]));
            continue;
        }
        m = DONE.exec(n);
        if (m)
            done.add(Number(m[1]));
    }
    return { max, maxDone: done.has(max), names };
}
function readHolder(path) {
    let text;
    try {
        const fd = (0,external_node_fs_namespaceObject.openSync)(path, external_node_fs_namespaceObject.constants.O_RDONLY | external_node_fs_namespaceObject.constants.O_NOFOLLOW);
        try {
            text = (0,external_node_fs_namespaceObject.readFileSync)(fd, 'utf8');
        }
        finally {
            (0,external_node_fs_namespaceObject.closeSync)(fd);
        }
    }
    catch (err) {
        return errnoCode(err) === 'ENOENT' ? 'gone' : null;
    }
    try {
        const v = JSON.parse(text);
        const owner = validOwner(v);
        if (owner?.kind === 'process' && typeof v.acquired === 'number') {
            return { ...owner, acquired: v.acquired };
        }
    }
    catch {
        // fall through: an unreadable holder is unverifiable
    }
    return null;
}
function tryUnlink(path) {
    try {
        (0,external_node_fs_namespaceObject.unlinkSync)(path);
    }
    catch {
        // already gone, or not ours to remove: either way nothing to do
    }
}
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
    const st = (0,external_node_fs_namespaceObject.lstatSync)(dir);
    if (!st.isDirectory()) {
        throw new RuntimeError(`registry lock ${dir} is not a directory (a symlink or a file); remove it`);
    }
    return dir;
}
/** Acquisitions within one process queue here first, so the file lock sees one at a time. */
const inProcess = new Map();
/** Acquire the registry lock. Throws RuntimeError after `timeoutMs` behind a live holder. */
async function acquireLock(registryDir, opts = {}) {
    const prev = inProcess.get(registryDir) ?? Promise.resolve();
    let unblock;
    const mine = new Promise((resolve) => (unblock = resolve));
    const chain = prev.then(() => mine);
    inProcess.set(registryDir, chain);
    await prev;
    try {
        const lock = await acquireFileLock(registryDir, opts);
        const release = lock.release.bind(lock);
        return {
            generation: lock.generation,
            assertHeld: lock.assertHeld.bind(lock),
            release() {
                try {
                    release();
                }
                finally {
                    unblock();
                    if (inProcess.get(registryDir) === chain)
                        inProcess.delete(registryDir);
                }
            },
        };
    }
    catch (err) {
        unblock();
        if (inProcess.get(registryDir) === chain)
            inProcess.delete(registryDir);
        throw err;
    }
}
async function acquireFileLock(registryDir, opts) {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const staleMs = opts.unverifiableStaleMs ?? 15_000;
    const dir = ensureLockDir(registryDir);
    const me = owner_self();
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    let lastHolder = null;
    for (;;) {
        const before = list(dir);
        let takeover = before.max === 0 || before.maxDone;
        if (!takeover) {
            const holder = readHolder((0,external_node_path_namespaceObject.join)(dir, genName(before.max)));
            if (holder === 'gone')
                continue; // cleaned up under us: look again
            let liveness;
            if (holder === null) {
                liveness = 'unknown';
            }
            else {
                lastHolder = holder;
                liveness = processLiveness(holder);
                if (holder.pid === me.pid && liveness === 'alive' && holder.start === me.start) {
                    // Acquisitions in one process are queued (see acquireLock), so a generation held by
                    // this very process is one it leaked: it cannot be a live hold.
                    liveness = 'dead';
                }
            }
            if (liveness === 'dead') {
                opts.debug?.(`lock: holder ${describeOwner(holder)} is dead; taking over`);
                takeover = true;
            }
            else if (liveness === 'unknown') {
                const age = holder === null ? Number.POSITIVE_INFINITY : Date.now() - holder.acquired;
                if (age > staleMs) {
                    opts.debug?.(`lock: unverifiable holder older than ${staleMs} ms; taking over`);
                    takeover = true;
                }
            }
        }
        if (takeover) {
            const gen = before.max + 1;
            const holder = { ...me, acquired: Date.now() };
            const temp = (0,external_node_path_namespaceObject.join)(dir, `t.${me.pid}.${randomSuffix(12)}`);
            const fd = (0,external_node_fs_namespaceObject.openSync)(temp, external_node_fs_namespaceObject.constants.O_WRONLY | external_node_fs_namespaceObject.constants.O_CREAT | external_node_fs_namespaceObject.constants.O_EXCL | external_node_fs_namespaceObject.constants.O_NOFOLLOW, 0o666);
            try {
                (0,external_node_fs_namespaceObject.writeSync)(fd, JSON.stringify(holder));
            }
            catch (err) {
                (0,external_node_fs_namespaceObject.closeSync)(fd);
                tryUnlink(temp);
                throw err;
            }
            (0,external_node_fs_namespaceObject.closeSync)(fd);
            let won = false;
            try {
                (0,external_node_fs_namespaceObject.linkSync)(temp, (0,external_node_path_namespaceObject.join)(dir, genName(gen)));
                won = true;
            }
            catch (err) {
                if (errnoCode(err) !== 'EEXIST') {
                    tryUnlink(temp);
                    throw err;
                }
            }
            tryUnlink(temp);
            if (won) {
                const after = list(dir);
                if (after.max > gen) {
                    // We recreated a generation that had been cleaned up: someone is ahead of us.
                    tryUnlink((0,external_node_path_namespaceObject.join)(dir, genName(gen)));
                    continue;
                }
                cleanup(dir, after.names, gen);
                return makeLock(dir, gen, me);
            }
            delay = 1;
            continue; // lost the race: look again at once
        }
        if (Date.now() >= deadline) {
            const who = lastHolder ? describeOwner(lastHolder) : 'an unknown process';
            throw new RuntimeError(`registry lock in ${registryDir} is held by ${who} for over ${Math.round(timeoutMs / 1000)}s; is a portlease process stuck?`);
        }
        await (0,promises_namespaceObject.setTimeout)(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 20);
    }
}
function cleanup(dir, names, gen) {
    const now = Date.now();
    for (const n of names) {
        const g = GEN.exec(n) ?? DONE.exec(n);
        if (g) {
            if (Number(g[1]) < gen)
                tryUnlink((0,external_node_path_namespaceObject.join)(dir, n));
            continue;
        }
        const t = TEMP.exec(n);
        if (t && Number(t[1]) !== process.pid) {
            // A temp file of a process killed between write and link: remove once it is old.
            try {
                if (now - (0,external_node_fs_namespaceObject.lstatSync)((0,external_node_path_namespaceObject.join)(dir, n)).mtimeMs > 60_000)
                    tryUnlink((0,external_node_path_namespaceObject.join)(dir, n));
            }
            catch {
                // gone already
            }
        }
    }
}
function makeLock(dir, gen, me) {
    let released = false;
    return {
        generation: gen,
        assertHeld() {
            const l = list(dir);
            if (l.max !== gen) {
                throw new RuntimeError(`registry lock was taken over by another process while ${describeOwner(me)} held it; nothing was written`);
            }
        },
        release() {
            if (released)
                return;
            released = true;
            try {
                (0,external_node_fs_namespaceObject.closeSync)((0,external_node_fs_namespaceObject.openSync)((0,external_node_path_namespaceObject.join)(dir, `${genName(gen)}.done`), external_node_fs_namespaceObject.constants.O_WRONLY | external_node_fs_namespaceObject.constants.O_CREAT | external_node_fs_namespaceObject.constants.O_EXCL | external_node_fs_namespaceObject.constants.O_NOFOLLOW, 0o666));
            }
            catch {
                // Could not mark it released (EEXIST cannot happen; ENOSPC or EIO can): the lock then
                // stays with this process until it exits, when the next process takes it over as dead.
            }
        },
    };
}

;// CONCATENATED MODULE: external "node:net"
const external_node_net_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:net");
;// CONCATENATED MODULE: ./src/registry/probe.ts
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

;// CONCATENATED MODULE: ./src/registry/index.ts
/**
 * The lease registry: allocate, release, list, gc. Pure Node; knows nothing of GitHub.
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
function showPorts(ports) {
    return ports.map(([n, p]) => `${n}=${p}`).join(', ');
}
function sameOwner(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
}
class Registry {
    dir;
    opts;
    /**
     * The state as this process last saw it under the lock: lock generation, file identity and
     * the validated leases. Lock generations are consecutive, so when this process now holds
     * generation G+1 and the file is the very one it saw at G, no other process can have
     * written in between and the file need not be read and validated again.
     */
    seen;
    constructor(dir = defaultRegistryDir(), opts = {}) {
        this.dir = dir;
        this.opts = opts;
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
    /** Validate a request completely, before anything on disk is touched. */
    validate(req) {
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
        checkRegistryPath(this.dir);
        const kernel = this.opts.kernel ?? kernelPorts();
        const excluded = (p) => {
            if (!req.allowEphemeral && kernel.ephemeral && inRange(p, kernel.ephemeral)) {
                return 'ephemeral';
            }
            return kernel.reserved.some((r) => inRange(p, r)) ? 'reserved' : null;
        };
        const span = range.hi - range.lo + 1;
        const usable = span -
            excludedCount(range, [
                ...(!req.allowEphemeral && kernel.ephemeral ? [kernel.ephemeral] : []),
                ...kernel.reserved,
            ]);
        if (usable === 0) {
            const eph = kernel.ephemeral ? formatRange(kernel.ephemeral) : 'none';
            throw new errors_UsageError(`range: ${formatRange(range)} lies wholly inside the kernel's ephemeral (${eph}) or reserved ports; choose a range outside them, like ${formatRange(DEFAULT_RANGE)}`);
        }
        if (usable < names.length || span < names.length) {
            throw new errors_UsageError(`range: ${formatRange(range)} has ${usable} usable port${usable === 1 ? '' : 's'} (outside the kernel's ephemeral and reserved ports), fewer than the ${names.length} asked for`);
        }
        return { names, range, strategy: req.strategy ?? 'hash', key: req.key, excluded };
    }
    async allocate(req) {
        const v = this.validate(req);
        ensureRegistryDir(this.dir);
        const waitMs = req.waitMs ?? 0;
        const deadline = Date.now() + waitMs;
        let watcher;
        let changed;
        let pollMs = 50;
        try {
            for (;;) {
                // Asked before taking the lock: the engine's answer does not depend on the registry,
                // and other allocators should not queue behind it.
                const [busyList] = await Promise.all([
                    this.opts.busyPorts ? this.opts.busyPorts() : [],
                    hasIPv6(), // warm up what the probes need, outside the lock
                ]);
                const busy = new Set(busyList);
                const outcome = await this.tryAllocate(req, v, busy);
                if (outcome.allocation)
                    return outcome.allocation;
                const left = deadline - Date.now();
                if (left <= 0) {
                    throw new RuntimeError(`range ${formatRange(v.range)} has no ${v.names.length} free port${v.names.length === 1 ? '' : 's'}${req.contiguous ? ' in a row' : ''}${waitMs > 0 ? ` after waiting ${formatDuration(waitMs)}` : ''}; ${outcome.holders}`);
                }
                if (watcher === undefined) {
                    try {
                        watcher = (0,external_node_fs_namespaceObject.watch)(this.dir, { persistent: false }, () => changed?.());
                    }
                    catch {
                        // no watch support here: polling alone
                    }
                }
                this.debug(`range full; waiting up to ${Math.ceil(left / 1000)}s for a release`);
                const ac = new AbortController();
                const woke = new Promise((resolve) => {
                    changed = () => {
                        ac.abort();
                        resolve();
                    };
                });
                await Promise.race([
                    woke,
                    (0,promises_namespaceObject.setTimeout)(Math.min(pollMs, left), undefined, { signal: ac.signal }).catch(() => undefined),
                ]);
                changed = undefined;
                ac.abort();
                pollMs = Math.min(pollMs * 2, 1000);
            }
        }
        finally {
            watcher?.close();
        }
    }
    async withLock(fn) {
        let lock;
        try {
            lock = await acquireLock(this.dir, {
                timeoutMs: this.opts.lockTimeoutMs,
                debug: this.opts.debug,
            });
        }
        catch (err) {
            throw err instanceof PortleaseError ? err : registryError(this.dir, err);
        }
        try {
            return await fn(lock);
        }
        finally {
            lock.release();
        }
    }
    async tryAllocate(req, v, busy) {
        return this.withLock(async (lock) => {
            const now = Date.now();
            const state = this.readLocked(lock);
            let dirty = state.rejected > 0;
            const cache = new OwnerCache();
            const leases = new Map();
            const holder = new Map();
            for (const l of state.leases) {
                if (l.expires !== null && Date.parse(l.expires) <= now) {
                    this.debug(`reclaimed ${l.id} (key ${l.key}): expired at ${l.expires}`);
                    dirty = true;
                    continue;
                }
                leases.set(l.id, l);
                for (const p of Object.values(l.ports))
                    holder.set(p, l);
            }
            const drop = (l, why) => {
                this.debug(`reclaimed ${l.id} (key ${l.key}): ${why}`);
                leases.delete(l.id);
                for (const p of Object.values(l.ports))
                    if (holder.get(p) === l)
                        holder.delete(p);
                dirty = true;
            };
            const usable = async (p) => {
                if (v.excluded(p) !== null)
                    return false;
                const h = holder.get(p);
                if (h) {
                    const dead = await this.deadReason(h, now, cache);
                    if (dead === null)
                        return false;
                    drop(h, dead);
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
            if (v.key !== undefined) {
                const same = [...leases.values()].find((l) => l.key === v.key);
                if (same) {
                    const dead = await this.deadReason(same, now, cache);
                    if (dead === null) {
                        const next = await this.reuse(same, req, v, usable, now);
                        if (next !== same) {
                            leases.set(same.id, next); // same place in the file
                            dirty = true;
                        }
                        if (dirty)
                            this.commit(lock, [...leases.values()]);
                        this.debug(next === same
                            ? `key ${v.key} already holds ${same.id}: handing it back`
                            : `key ${v.key} holds ${same.id}: renewed or grown`);
                        return { allocation: { lease: next, reused: true }, holders: '' };
                    }
                    drop(same, dead);
                }
            }
            const key = v.key ?? newLeaseId().replace(/^pl_/, 'anon-');
            const chosen = await choosePorts({
                count: v.names.length,
                range: v.range,
                contiguous: req.contiguous === true,
                start: startPort(v.range, v.strategy, key),
                usable,
            });
            if (chosen === null) {
                if (dirty)
                    this.commit(lock, [...leases.values()]);
                return { holders: this.describeHolders(v.range, leases) };
            }
            let id = newLeaseId();
            while (leases.has(id))
                id = newLeaseId();
            const lease = freezeLease({
                id,
                key,
                ports: Object.fromEntries(v.names.map((n, i) => [n, chosen[i]])),
                range: { lo: v.range.lo, hi: v.range.hi },
                contiguous: req.contiguous === true,
                owner: req.owner,
                created: new Date(now).toISOString(),
                expires: req.ttlMs === null || req.ttlMs === undefined
                    ? null
                    : new Date(now + req.ttlMs).toISOString(),
                labels: cleanLabels(req.labels ?? {}),
            });
            // What is written must read back valid, or the next reader would set it aside.
            const check = validateLease(JSON.parse(JSON.stringify(lease)));
            if (typeof check === 'string')
                throw new errors_UsageError(`lease: ${check}`);
            leases.set(lease.id, lease);
            this.commit(lock, [...leases.values()]);
            this.debug(`leased ${lease.id} (key ${key}): ${Object.entries(lease.ports)
                .map(([n, p]) => `${n}=${p}`)
                .join(' ')}`);
            return { allocation: { lease, reused: false }, holders: '' };
        });
    }
    /**
     * A live lease asked for again by its key: check what was asked explicitly against it,
     * grow it by names it lacks, renew its expiry or owner when asked. Returns `same` itself
     * when nothing changes. Throws (nothing written) when the lease cannot satisfy the request.
     */
    async reuse(same, req, v, usable, now) {
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
    /**
     * Change lease `id` in place: a new owner (exec, once its command's session exists) and/or
     * a new expiry `ttlMs` from now (exec's heartbeat). Returns the new record, or null when no
     * such lease is left (it is never brought back).
     */
    async update(id, changes) {
        checkRegistryPath(this.dir);
        return this.withLock((lock) => {
            const state = this.readLocked(lock);
            const found = state.leases.find((l) => l.id === id);
            if (!found) {
                if (state.rejected > 0)
                    this.commit(lock, state.leases);
                return Promise.resolve(null);
            }
            const lease = freezeLease({
                ...found,
                owner: changes.owner === undefined ? found.owner : changes.owner,
                expires: changes.ttlMs === undefined
                    ? found.expires
                    : new Date(Date.now() + changes.ttlMs).toISOString(),
            });
            const check = validateLease(JSON.parse(JSON.stringify(lease)));
            if (typeof check === 'string')
                throw new errors_UsageError(`lease: ${check}`);
            this.commit(lock, state.leases.map((l) => (l === found ? lease : l)));
            return Promise.resolve(lease);
        });
    }
    /** The state, under the lock: from the last operation when provably unchanged, else read. */
    readLocked(lock) {
        const file = stateFileId(this.dir);
        const seen = this.seen;
        this.seen = undefined;
        if (seen && lock.generation === seen.generation + 1 && sameFile(file, seen.file)) {
            return { leases: [...seen.leases], rejected: 0 };
        }
        const state = readState(this.dir, { quarantine: true, warn: this.opts.warn });
        if (state.rejected === 0)
            this.remember(lock, file, state.leases);
        return state;
    }
    remember(lock, file, leases) {
        this.seen = file === null ? undefined : { generation: lock.generation, file, leases };
    }
    commit(lock, leases) {
        lock.assertHeld();
        this.seen = undefined;
        writeState(this.dir, leases);
        this.remember(lock, stateFileId(this.dir), leases);
    }
    describeHolders(range, leases) {
        const inside = [...leases.values()].filter((l) => Object.values(l.ports).some((p) => inRange(p, range)));
        if (inside.length === 0)
            return 'every port in it is in use outside the registry or reserved by the kernel';
        const shown = inside.slice(0, 5).map((l) => {
            const ports = Object.values(l.ports).filter((p) => inRange(p, range));
            return `${l.id} key ${JSON.stringify(l.key)} (${ports.join(',')}; owner ${describeOwner(l.owner)}${l.expires ? `, expires ${l.expires}` : ''})`;
        });
        const more = inside.length > 5 ? `, and ${inside.length - 5} more` : '';
        return `held by ${inside.length} lease${inside.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`;
    }
    /** Release a lease by key or id. Returns it, or null when there was none (not an error). */
    async release(sel) {
        if ('key' in sel)
            checkKey(sel.key, 'key');
        checkRegistryPath(this.dir);
        ensureRegistryDir(this.dir);
        return this.withLock((lock) => {
            const state = this.readLocked(lock);
            const found = state.leases.find((l) => 'key' in sel ? l.key === sel.key : l.id === sel.lease);
            if (!found && state.rejected === 0)
                return Promise.resolve(null);
            this.commit(lock, state.leases.filter((l) => l !== found));
            if (found)
                this.debug(`released ${found.id} (key ${found.key})`);
            return Promise.resolve(found ?? null);
        });
    }
    /** Live leases, without taking the lock (every write is atomic, so a read sees a whole state). */
    async list() {
        checkRegistryPath(this.dir);
        const state = readState(this.dir, { quarantine: false, warn: this.opts.warn });
        const now = Date.now();
        const cache = new OwnerCache();
        const out = [];
        for (const lease of state.leases) {
            if ((await this.deadReason(lease, now, cache)) !== null)
                continue;
            out.push({ lease, liveness: await this.liveness(lease, cache) });
        }
        return out;
    }
    /** Remove every lease that is no longer live; with dryRun, only say which. */
    async gc(opts = {}) {
        checkRegistryPath(this.dir);
        const sweep = async (leases) => {
            const now = Date.now();
            const cache = new OwnerCache();
            const removed = [];
            const live = [];
            for (const lease of leases) {
                const reason = await this.deadReason(lease, now, cache);
                if (reason === null)
                    live.push(lease);
                else
                    removed.push({ lease, reason });
            }
            return { removed, live };
        };
        if (opts.dryRun) {
            const state = readState(this.dir, { quarantine: false, warn: this.opts.warn });
            return { ...(await sweep(state.leases)), temps: 0 };
        }
        ensureRegistryDir(this.dir);
        return this.withLock(async (lock) => {
            const state = this.readLocked(lock);
            const result = await sweep(state.leases);
            if (result.removed.length > 0 || state.rejected > 0)
                this.commit(lock, result.live);
            return { ...result, temps: sweepTemps(this.dir) };
        });
    }
}

;// CONCATENATED MODULE: ./package.json
const package_namespaceObject = {"rE":"1.0.0"};
;// CONCATENATED MODULE: ./src/version.ts

const VERSION = package_namespaceObject.rE;

;// CONCATENATED MODULE: ./src/registry/containers.ts
/**
 * What the host's container engines (Docker, Podman) know that a socket probe may not:
 * host ports they publish, containers labelled with a portlease lease, and whether a
 * container owner still runs. Pure Node (no @actions/*): used by allocation, `portlease gc`
 * and the container step.
 *
 * Every query is bounded by a short timeout and answers "nothing known" quietly when no
 * engine is installed or answering: an engine is never required.
 *
 * Docker is asked through its API on the unix socket (`DOCKER_HOST=unix://...` or
 * /var/run/docker.sock) when that socket exists, else through the `docker` CLI when it is
 * on PATH (which also covers contexts and tcp:// hosts). Podman is asked through its CLI.
 * Nothing is ever run through a shell.
 */





const ENGINES = ['docker', 'podman'];
/** The label every portlease container carries: its lease id. */
const LEASE_LABEL = 'portlease.lease';
/** ...and the registry directory (absolute) that lease lives in. */
const REGISTRY_LABEL = 'portlease.registry';
const DEFAULT_TIMEOUT_MS = 3000;
/** A program on PATH, or null; no process is started to find out. */
function findOnPath(program, env = process.env) {
    const path = env.PATH ?? '';
    for (const dir of path.split(external_node_path_namespaceObject.delimiter)) {
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
// node:http and node:child_process are loaded when first needed: each costs several
// milliseconds at start-up, which every `portlease` command would pay otherwise.
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
async function runCli(file, args, timeoutMs, env) {
    const { execFile } = await Promise.resolve(/* import() */).then(__nccwpck_require__.t.bind(__nccwpck_require__, 421, 23));
    return new Promise((resolve) => {
        execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof err.code === 'number' ? err.code : err.killed ? 124 : 127;
            resolve({ code, stdout, stderr });
        });
    });
}
function containers_isRecord(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function validPort(n) {
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}
function stringRecord(v) {
    const out = {};
    if (!containers_isRecord(v))
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
/** A Docker engine, through its API socket or its CLI. */
class Docker {
    socket;
    cli;
    timeoutMs;
    env;
    name = 'docker';
    constructor(socket, cli, timeoutMs, env) {
        this.socket = socket;
        this.cli = cli;
        this.timeoutMs = timeoutMs;
        this.env = env;
    }
    static find(env, timeoutMs) {
        const socket = dockerSocket(env);
        const cli = socket === null ? findOnPath('docker', env) : null;
        return socket === null && cli === null ? null : new Docker(socket, cli, timeoutMs, env);
    }
    async list(all, label) {
        if (this.socket !== null) {
            const filters = label === undefined ? '' : JSON.stringify({ label: [label] });
            const q = new URLSearchParams({ all: all ? '1' : '0' });
            if (filters !== '')
                q.set('filters', filters);
            const a = await dockerApi(this.socket, 'GET', `/containers/json?${q.toString()}`, this.timeoutMs);
            if (!a.ok)
                throw new Error(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
            const rows = JSON.parse(a.body);
            if (!Array.isArray(rows))
                throw new Error('docker API: not a list of containers');
            return rows.filter(containers_isRecord).map((r) => {
                const ports = Array.isArray(r.Ports) ? r.Ports.filter(containers_isRecord) : [];
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
        const args = ['ps', '--no-trunc', '--format', '{{json .}}'];
        if (all)
            args.splice(1, 0, '-a');
        if (label !== undefined)
            args.splice(1, 0, '--filter', `label=${label}`);
        const r = await runCli(this.cli ?? 'docker', args, this.timeoutMs, this.env);
        if (r.code !== 0)
            throw new Error(`docker ps: ${r.stderr.trim().split('\n')[0] ?? ''}`);
        const out = [];
        for (const line of r.stdout.split('\n')) {
            if (line.trim() === '')
                continue;
            const row = JSON.parse(line);
            if (!containers_isRecord(row))
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
    async remove(id) {
        if (this.socket !== null) {
            const a = await dockerApi(this.socket, 'DELETE', `/containers/${encodeURIComponent(id)}?force=1&v=1`, Math.max(this.timeoutMs, 30_000));
            if (!a.ok && a.status !== 404) {
                throw new Error(`docker API answered ${a.status}: ${a.body.trim().slice(0, 200)}`);
            }
            return;
        }
        const r = await runCli(this.cli ?? 'docker', ['rm', '-f', '-v', id], Math.max(this.timeoutMs, 30_000), this.env);
        if (r.code !== 0 && !/no such container/i.test(r.stderr)) {
            throw new Error(`docker rm: ${r.stderr.trim().split('\n')[0] ?? ''}`);
        }
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
            return containers_isRecord(body) && containers_isRecord(body.State) && body.State.Running === true;
        }
        const r = await runCli(this.cli ?? 'docker', ['inspect', '--type', 'container', '--format', '{{.State.Running}}', id], this.timeoutMs, this.env);
        if (r.code === 0)
            return r.stdout.trim() === 'true';
        if (/no such (container|object)/i.test(r.stderr))
            return false;
        throw new Error(`docker inspect: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    }
}
/** Podman, through its CLI. */
class Podman {
    cli;
    timeoutMs;
    env;
    name = 'podman';
    constructor(cli, timeoutMs, env) {
        this.cli = cli;
        this.timeoutMs = timeoutMs;
        this.env = env;
    }
    static find(env, timeoutMs) {
        const cli = findOnPath('podman', env);
        return cli === null ? null : new Podman(cli, timeoutMs, env);
    }
    async list(all, label) {
        // Starting podman costs tens of milliseconds: when its store holds no container at all,
        // there is nothing to list (the common case on a host where podman is merely installed).
        if (podmanStoreEmpty(this.env))
            return [];
        const args = ['ps', '--format', 'json'];
        if (all)
            args.splice(1, 0, '-a');
        if (label !== undefined)
            args.splice(1, 0, '--filter', `label=${label}`);
        const r = await runCli(this.cli, args, this.timeoutMs, this.env);
        if (r.code !== 0)
            throw new Error(`podman ps: ${r.stderr.trim().split('\n')[0] ?? ''}`);
        const rows = JSON.parse(r.stdout.trim() === '' ? '[]' : r.stdout);
        if (!Array.isArray(rows))
            throw new Error('podman ps: not a list of containers');
        return rows.filter(containers_isRecord).map((row) => {
            const hostPorts = [];
            for (const p of Array.isArray(row.Ports) ? row.Ports.filter(containers_isRecord) : []) {
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
    async remove(id) {
        const r = await runCli(this.cli, ['rm', '-f', '-v', '--time', '0', id], Math.max(this.timeoutMs, 30_000), this.env);
        if (r.code !== 0 && !/no such container/i.test(r.stderr)) {
            throw new Error(`podman rm: ${r.stderr.trim().split('\n')[0] ?? ''}`);
        }
    }
    async running(id) {
        const r = await runCli(this.cli, ['container', 'inspect', '--format', '{{.State.Running}}', id], this.timeoutMs, this.env);
        if (r.code === 0)
            return r.stdout.trim() === 'true';
        if (/no such (container|object)/i.test(r.stderr))
            return false;
        throw new Error(`podman inspect: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    }
}
/**
 * true when rootful podman's store provably holds no container: every
 * `<graphroot>/<driver>-containers/containers.json` is an empty list. Anything unexpected
 * (not root, another graphroot that cannot be read, a file that does not parse) is false, so
 * podman itself is asked.
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
/**
 * The engines to ask. By default podman only as root: for another user `podman ps` would
 * set up rootless storage as a side effect, and rootless podman publishes through a
 * process that binds the host port, which the socket probe sees anyway.
 */
function engines(opts) {
    const env = opts.env ?? process.env;
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const wanted = opts.engines ??
        (process.getuid?.() === 0 ? ['docker', 'podman'] : ['docker']);
    const out = [];
    for (const name of wanted) {
        const e = name === 'docker' ? Docker.find(env, timeout) : Podman.find(env, timeout);
        if (e !== null)
            out.push(e);
    }
    return out;
}
/**
 * Host TCP ports published by running containers (any container, portlease's or not), from
 * every engine asked. [] when no engine is installed or answering; never throws.
 */
async function publishedPorts(opts = {}) {
    const found = engines(opts);
    const results = await Promise.all(found.map(async (e) => {
        try {
            return (await e.list(false)).flatMap((c) => c.hostPorts);
        }
        catch (err) {
            opts.debug?.(`${e.name}: no published ports known: ${errors_describeError(err)}`);
            return [];
        }
    }));
    return [...new Set(results.flat())].sort((a, b) => a - b);
}
/** Containers (running or not) carrying the portlease lease label, from every engine asked. */
async function leaseContainers(opts = {}) {
    const found = engines(opts);
    const results = await Promise.all(found.map(async (e) => {
        try {
            return await e.list(true, LEASE_LABEL);
        }
        catch (err) {
            opts.warn?.(`${e.name}: cannot list containers: ${describeError(err)}`);
            return [];
        }
    }));
    return results.flat();
}
/**
 * Remove (`rm -f -v`) every container labelled `portlease.lease=<id>` whose lease is not in
 * `liveLeaseIds`. With `dryRun`, only say which. Never throws; failures become warnings.
 *
 * Give `liveLeaseIds` as a function to close a race: it is called after the containers are
 * listed, so a container step that leased and started its container meanwhile (lease
 * first, then `run`) is seen live and never removed.
 */
async function removeOrphanContainers(liveLeaseIds, opts = {}) {
    const registry = opts.registry === undefined ? undefined : (0,external_node_path_namespaceObject.resolve)(opts.registry);
    const found = [];
    for (const e of engines(opts)) {
        try {
            found.push([e, await e.list(true, LEASE_LABEL)]);
        }
        catch (err) {
            opts.warn?.(`${e.name}: cannot list containers: ${errors_describeError(err)}`);
        }
    }
    if (found.every(([, list]) => list.length === 0))
        return [];
    const live = new Set(typeof liveLeaseIds === 'function' ? await liveLeaseIds() : liveLeaseIds);
    const out = [];
    for (const [e, list] of found) {
        for (const c of list) {
            const lease = c.labels[LEASE_LABEL];
            if (lease === undefined || c.id === '' || live.has(lease))
                continue;
            if (registry !== undefined) {
                const theirs = c.labels[REGISTRY_LABEL];
                if (theirs === undefined || (0,external_node_path_namespaceObject.resolve)(theirs) !== registry)
                    continue;
            }
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
                    opts.warn?.(`${e.name}: cannot remove container ${c.id.slice(0, 12)}: ${errors_describeError(err)}`);
                }
            }
            out.push(entry);
        }
    }
    return out;
}
/**
 * Liveness of a container owner (RegistryOptions.containerLiveness): 'alive' while an engine
 * says it runs; 'dead' only when it is provable from here: the same kernel boot (a job
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
        const found = engines({ ...opts, engines: opts.engines ?? ENGINES });
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
/** `containerLivenessChecker()` with default options, for RegistryOptions.containerLiveness. */
function containerLiveness(owner) {
    return containerLivenessChecker()(owner);
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
    gc: `Usage: portlease gc [--dry-run] [--registry DIR]

Remove leases whose owner is provably dead (same boot: pid gone or reused; host rebooted) or
whose TTL has passed. Never removes a live lease. --dry-run only says what it would remove.`,
    exec: `Usage: portlease exec NAME... [options] -- COMMAND [ARGS...]

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
  --grace D             time between SIGTERM and SIGKILL (default 5s; 0 = SIGKILL at once)`,
};

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
        const child = spawn(o.file, o.args, { stdio: 'inherit', env: o.env, detached: true });
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
        let status;
        child.once('exit', (code, signal) => {
            status = signal !== null ? 128 + external_node_os_namespaceObject.constants.signals[signal] : (code ?? 1);
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
    }
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
    const temp = (0,external_node_path_namespaceObject.join)((0,external_node_path_namespaceObject.dirname)(target.path), `.${(0,external_node_path_namespaceObject.basename)(target.path)}.${process.pid}.${randomSuffix(6)}.tmp`);
    let fd;
    try {
        fd = (0,external_node_fs_namespaceObject.openSync)(temp, external_node_fs_namespaceObject.constants.O_WRONLY | external_node_fs_namespaceObject.constants.O_CREAT | external_node_fs_namespaceObject.constants.O_EXCL | external_node_fs_namespaceObject.constants.O_NOFOLLOW, 0o666);
        const buf = Buffer.from(formatPorts(ports, target.format), 'utf8');
        let off = 0;
        while (off < buf.length)
            off += (0,external_node_fs_namespaceObject.writeSync)(fd, buf, off, buf.length - off);
        (0,external_node_fs_namespaceObject.fsyncSync)(fd);
        (0,external_node_fs_namespaceObject.closeSync)(fd);
        fd = undefined;
        (0,external_node_fs_namespaceObject.renameSync)(temp, target.path);
    }
    catch (err) {
        if (fd !== undefined) {
            try {
                (0,external_node_fs_namespaceObject.closeSync)(fd);
            }
            catch {
                // already broken
            }
        }
        try {
            (0,external_node_fs_namespaceObject.unlinkSync)(temp);
        }
        catch {
            // never created, or renamed
        }
        throw new RuntimeError(`--write: cannot write ${target.path}: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}`);
    }
}

;// CONCATENATED MODULE: ./src/cli/main.ts
/**
 * The `portlease` command: a thin shell over the registry (src/registry).
 */








const defaultIo = {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    env: process.env,
};
const DEFAULT_TTL_MS = 24 * 3_600_000;
const DEFAULT_GRACE_MS = 5_000;
/** How often exec renews a lease that has the default TTL (PORTLEASE_EXEC_HEARTBEAT_MS overrides, >= 1s). */
const HEARTBEAT_MS = 3_600_000;
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
    exec: {
        ...Object.fromEntries(Object.entries(ALLOCATE).filter(([k]) => !['owner', 'owner-pid', 'json'].includes(k))),
        grace: { type: 'string' },
    },
    release: { ...COMMON, key: { type: 'string' }, lease: { type: 'string' } },
    list: { ...COMMON, json: { type: 'boolean' } },
    gc: { ...COMMON, 'dry-run': { type: 'boolean' } },
};
function parse(command, args) {
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
        const msg = err instanceof Error ? err.message : String(err);
        const unknown = /^Unknown option '([^']+)'/.exec(msg);
        if (unknown) {
            throw new errors_UsageError(`${command}: unknown option ${unknown[1]}; see 'portlease ${command} --help'`);
        }
        const missing = /^Option '(-\w, )?(--[\w-]+)[^']*' argument missing/.exec(msg);
        if (missing)
            throw new errors_UsageError(`${missing[2]}: needs a value`);
        const ambiguous = /^Option '(-\w, )?(--[\w-]+)' argument is ambiguous/.exec(msg);
        if (ambiguous) {
            throw new errors_UsageError(`${ambiguous[2]}: needs a value; to give one that starts with '-', write ${ambiguous[2]}=VALUE`);
        }
        const noValue = /^Option '(-\w, )?(--[\w-]+)' does not take an argument/.exec(msg);
        if (noValue)
            throw new errors_UsageError(`${noValue[2]}: takes no value`);
        throw new errors_UsageError(`${command}: ${msg.split('\n')[0] ?? msg}`);
    }
}
function main_str(values, name) {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
}
function debugOn(io) {
    return (io.env.PORTLEASE_DEBUG !== undefined &&
        io.env.PORTLEASE_DEBUG !== '' &&
        io.env.PORTLEASE_DEBUG !== '0');
}
function registryFrom(values, io) {
    const dir = main_str(values, 'registry');
    if (dir !== undefined && dir.trim() === '') {
        throw new errors_UsageError('--registry: empty path; name a directory');
    }
    const debug = debugOn(io);
    return new Registry(dir ?? defaultRegistryDir(io.env), {
        warn: (m) => {
            io.err(`portlease: warning: ${m}`);
        },
        debug: debug
            ? (m) => {
                io.err(`portlease: debug: ${m}`);
            }
            : undefined,
        // Host ports published by containers (docker/podman) are busy even where no socket shows.
        busyPorts: () => publishedPorts({ env: io.env }),
        containerLiveness: containerLiveness,
    });
}
/** `--owner` / `--owner-pid`, else the default owner (docs/lifetimes.md). */
function ownerFrom(values, io) {
    const spec = main_str(values, 'owner');
    const pid = main_str(values, 'owner-pid');
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
/** The key of a directory's bundle: `dir:<canonical path>` (hashed when too long for a key). */
function dirKey(path) {
    const key = `dir:${path}`;
    if (key.length <= 200)
        return key;
    return `dir:…${path.slice(-170)}#${fnv1a(path).toString(16).padStart(8, '0')}`;
}
/** Build the allocate request from parsed flags; every value checked, nothing touched yet. */
function allocateRequest(values, positionals, choice) {
    const owner = choice.owner;
    const countText = main_str(values, 'count');
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
    const rangeText = main_str(values, 'range');
    const key = main_str(values, 'key');
    const strategy = main_str(values, 'strategy');
    const ttl = main_str(values, 'ttl');
    const wait = main_str(values, 'wait');
    // A directory's bundle lives as long as the directory: no TTL unless one is asked for.
    const defaultTtl = owner?.kind === 'dir' ? null : DEFAULT_TTL_MS;
    return {
        names,
        range: rangeText === undefined ? undefined : parseRange(rangeText, '--range'),
        contiguous: values.contiguous === true ? true : undefined,
        key: key !== undefined
            ? checkKey(key, '--key')
            : owner?.kind === 'dir'
                ? dirKey(owner.path)
                : undefined,
        strategy: strategy === undefined ? 'hash' : parseStrategy(strategy, '--strategy'),
        ttlMs: ttl === undefined ? defaultTtl : parseDuration(ttl, '--ttl'),
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
function writeTarget(values) {
    const text = main_str(values, 'write');
    return text === undefined ? undefined : checkWriteTarget(text, '--write');
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
async function cmdAllocate(args, io) {
    const { values, positionals } = parse('allocate', args);
    if (values.help)
        return help('allocate', io);
    const choice = ownerFrom(values, io);
    const req = allocateRequest(values, positionals, choice);
    const target = writeTarget(values);
    const registry = registryFrom(values, io);
    if (debugOn(io))
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
    if (values.json) {
        io.out(JSON.stringify(leaseJson(lease, { reused }, ports)));
    }
    else {
        for (const [name, port] of Object.entries(ports))
            io.out(`${name}=${port}`);
    }
    return 0;
}
async function cmdRelease(args, io) {
    const { values, positionals } = parse('release', args);
    if (values.help)
        return help('release', io);
    if (positionals.length > 0) {
        throw new errors_UsageError(`release: unexpected argument ${JSON.stringify(positionals[0])}; use --key KEY or --lease ID`);
    }
    const key = main_str(values, 'key');
    const id = main_str(values, 'lease');
    if ((key === undefined) === (id === undefined)) {
        throw new errors_UsageError('release: give exactly one of --key KEY or --lease ID');
    }
    const sel = key !== undefined
        ? { key: checkKey(key, '--key') }
        : { lease: checkLeaseId(id ?? '', '--lease') };
    const registry = registryFrom(values, io);
    const lease = await registry.release(sel);
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
    const { values, positionals } = parse('list', args);
    if (values.help)
        return help('list', io);
    if (positionals.length > 0)
        throw new errors_UsageError(`list: unexpected argument ${JSON.stringify(positionals[0])}`);
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
    const { values, positionals } = parse('gc', args);
    if (values.help)
        return help('gc', io);
    if (positionals.length > 0)
        throw new errors_UsageError(`gc: unexpected argument ${JSON.stringify(positionals[0])}`);
    const registry = registryFrom(values, io);
    const dry = values['dry-run'] === true;
    const report = await registry.gc({ dryRun: dry });
    for (const { lease, reason } of report.removed) {
        io.out(`${dry ? 'would remove' : 'removed'} ${lease.id} key ${JSON.stringify(lease.key)} (${Object.values(lease.ports).join(',')}): ${reason}`);
    }
    io.out(`${report.removed.length} lease${report.removed.length === 1 ? '' : 's'} ${dry ? 'would be removed' : 'removed'}, ${report.live.length} live`);
    // Containers labelled portlease.lease=<id> whose lease is no longer live (a runner that died mid-job).
    // The live set is read after the containers are listed (see removeOrphanContainers).
    const orphans = await removeOrphanContainers(async () => (await registry.list()).map((s) => s.lease.id), {
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
    const dash = args.indexOf('--');
    const own = dash < 0 ? args : args.slice(0, dash);
    const { values, positionals } = parse('exec', own);
    if (values.help)
        return help('exec', io);
    const command = dash < 0 ? [] : args.slice(dash + 1);
    if (command.length === 0) {
        throw new errors_UsageError("exec: no command given; put it after '--', like: portlease exec WEB_PORT -- npm test");
    }
    const graceText = main_str(values, 'grace');
    const graceMs = graceText === undefined
        ? DEFAULT_GRACE_MS
        : parseDuration(graceText, '--grace', { allowZero: true, max: 3_600_000 });
    // Owned by the tree exec supervises: exec itself, its command's session once it runs, and
    // every process carrying PORTLEASE_LEASE=<id>. Never a renewal of someone else's lease.
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
    const { lease, reused } = await registry.allocate(req);
    const ports = askedPorts(lease, req.names);
    // With the default TTL, the lease is renewed while exec runs: a dev server may run for
    // days. An explicit --ttl is a hard bound. (After a SIGKILL of exec the last renewal's
    // TTL still bounds a tree that cannot be judged from here.)
    const heartbeatMs = Math.max(1000, Number(io.env.PORTLEASE_EXEC_HEARTBEAT_MS) || HEARTBEAT_MS);
    const heartbeat = reused || main_str(values, 'ttl') !== undefined
        ? undefined
        : setInterval(() => {
            registry.update(lease.id, { ttlMs: DEFAULT_TTL_MS }).catch((err) => {
                io.err(`portlease: warning: exec: could not renew ${lease.id}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
            });
        }, heartbeatMs);
    heartbeat?.unref();
    let status;
    let leftovers;
    try {
        if (target !== undefined)
            writePorts(target, ports);
        const shown = Object.entries(ports)
            .map(([n, p]) => `${n}=${p}`)
            .join(' ');
        io.err(reused
            ? `portlease: exec: ${shown} (live lease ${lease.id} of key ${JSON.stringify(lease.key)}, owner ${describeOwner(lease.owner)}; left as it is)`
            : `portlease: exec: ${shown} (lease ${lease.id})`);
        const [file, ...rest] = command;
        ({ status, leftovers } = await supervise({
            file,
            args: rest,
            env: {
                ...io.env,
                ...Object.fromEntries(Object.entries(ports).map(([n, p]) => [n, String(p)])),
                PORTLEASE_LEASE: lease.id,
            },
            graceMs,
            cookie: reused ? null : lease.id,
            onSpawn: async (sid) => {
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
        clearInterval(heartbeat);
        if (!reused)
            await registry.release({ lease: lease.id });
        throw err;
    }
    clearInterval(heartbeat);
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
function help(command, io) {
    io.out(HELP[command] ?? HELP.main ?? '');
    return 0;
}
/** Run the CLI; returns the exit status. Never throws. */
async function main_runCli(argv, io = defaultIo) {
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
            case 'allocate':
                return await cmdAllocate(rest, io);
            case 'release':
                return await cmdRelease(rest, io);
            case 'list':
                return await cmdList(rest, io);
            case 'gc':
                return await cmdGc(rest, io);
            case 'exec':
                return await cmdExec(rest, io);
            default:
                throw new errors_UsageError(`unknown command ${JSON.stringify(command)}; use allocate, release, list, gc or exec (portlease --help)`);
        }
    }
    catch (err) {
        if (err instanceof PortleaseError) {
            io.err(`portlease: ${err.message}`);
            return err instanceof errors_UsageError ? 2 : 1;
        }
        io.err(`portlease: unexpected error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        return 1;
    }
}


/***/ }),

/***/ 921:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _cli_main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(115);

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
