// Checks for .github/workflows/self-test.yml, run as steps after portlease has leased.
// Plain Node (no dependencies), the same on Linux, macOS and Windows.
//
//   node .github/self-test/check.mjs outputs            outputs and env of the steps `ports` and `block`
//   node .github/self-test/check.mjs serve NAME...      bind a real server on each $NAME, connect, close
//   node .github/self-test/check.mjs registry KIND      the leases in $LEASES are live, owned by KIND
//                                                      (process: the runner worker; container)
//   node .github/self-test/check.mjs redis NAME         a redis on 127.0.0.1:$NAME answers PING, SET, GET
import { execFileSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));
const env = process.env;

function check(ok, message) {
  if (!ok) throw new Error(message);
}

function port(name) {
  const text = env[name] ?? '';
  const n = Number(text);
  check(
    /^\d+$/.test(text) && n >= 1 && n <= 65535,
    `${name}=${JSON.stringify(text)} is not a port`,
  );
  return n;
}

function outputs() {
  const ports = JSON.parse(env.OUT_PORTS ?? '');
  check(
    JSON.stringify(Object.keys(ports)) === '["WEB_PORT","API_PORT"]',
    `ports output ${env.OUT_PORTS}`,
  );
  for (const name of ['WEB_PORT', 'API_PORT']) {
    check(
      String(ports[name]) === env[`OUT_${name.split('_')[0]}`],
      `output ${name} != ports.${name}`,
    );
    check(port(name) === ports[name], `env ${name}=${env[name]}, output ${ports[name]}`);
    check(
      ports[name] >= 20000 && ports[name] <= 29999,
      `${name}=${ports[name]} outside 20000-29999`,
    );
  }
  check(ports.WEB_PORT !== ports.API_PORT, 'the same port twice');
  check(/^pl_[0-9a-z]{10}$/.test(env.OUT_LEASE ?? ''), `lease output ${env.OUT_LEASE}`);

  const block = JSON.parse(env.BLOCK_PORTS ?? '');
  const values = ['A_PORT', 'B_PORT', 'C_PORT'].map((n) => block[n]);
  check(
    values.every((p) => p >= 30000 && p <= 30999),
    `block ${env.BLOCK_PORTS} outside its range`,
  );
  check(
    values[1] === values[0] + 1 && values[2] === values[1] + 1,
    `block not contiguous: ${values}`,
  );
  check(env.A_PORT === undefined, 'export-env: false, yet A_PORT is in the environment');
  check(env.BLOCK_LEASE !== env.OUT_LEASE, 'two steps, one lease');
  console.log(
    `outputs ok: ${env.OUT_PORTS} (${env.OUT_LEASE}), ${env.BLOCK_PORTS} (${env.BLOCK_LEASE})`,
  );
}

function listen(p, host) {
  return new Promise((resolve, reject) => {
    const server = createServer((c) => c.end(`pong ${p}`));
    server.once('error', reject);
    server.listen(p, host, () => resolve(server));
  });
}

function ask(p, request, until) {
  return new Promise((resolve, reject) => {
    const socket = connect(p, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer on ${p} (got ${JSON.stringify(data)})`));
    }, 10_000);
    socket.on('connect', () => {
      if (request) socket.write(request);
    });
    socket.on('data', (d) => {
      data += d;
      if (until?.(data)) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on('error', reject);
  });
}

async function serve(names) {
  for (const [i, name] of names.entries()) {
    const p = port(name);
    const host = i % 2 === 0 ? '0.0.0.0' : '127.0.0.1';
    const server = await listen(p, host);
    const answer = await ask(p);
    server.close();
    check(answer === `pong ${p}`, `${name}: ${JSON.stringify(answer)}`);
    console.log(`${name}: a server bound ${host}:${p} and answered`);
  }
}

function registry(kind) {
  const leases = (env.LEASES ?? '').split(/\s+/).filter(Boolean);
  check(leases.length > 0, 'LEASES is empty');
  const list = JSON.parse(
    execFileSync(process.execPath, [CLI, 'list', '--json'], { encoding: 'utf8' }),
  );
  for (const id of leases) {
    const l = list.find((x) => x.lease === id);
    check(l !== undefined, `lease ${id} is not in the registry: ${JSON.stringify(list)}`);
    // A job container's liveness needs the engine, which the job container does not have.
    const live = kind === 'container' ? ['alive', 'unknown'] : ['alive'];
    check(live.includes(l.liveness), `lease ${id}: owner ${l.liveness}`);
    check(
      l.owner?.kind === kind,
      `lease ${id}: owner ${JSON.stringify(l.owner)}, expected ${kind}`,
    );
    if (kind === 'process') {
      // Start time everywhere (/proc, ps, WMI); boot identity on Linux and macOS only.
      check(
        typeof l.owner.start === 'string',
        `lease ${id}: no start time: ${JSON.stringify(l.owner)}`,
      );
      const boot =
        env.RUNNER_OS === 'Windows' ? l.owner.boot === null : typeof l.owner.boot === 'string';
      check(boot, `lease ${id}: boot ${JSON.stringify(l.owner.boot)} on ${env.RUNNER_OS}`);
    }
    console.log(`lease ${id}: ${JSON.stringify(l.ports)}, owner ${JSON.stringify(l.owner)}`);
  }
}

async function redis(name) {
  const p = port(name);
  const pong = await ask(p, 'PING\r\n', (d) => d.includes('\r\n'));
  check(pong === '+PONG\r\n', `PING: ${JSON.stringify(pong)}`);
  const set = await ask(p, 'SET portlease ok\r\nGET portlease\r\n', (d) => d.endsWith('ok\r\n'));
  check(set === '+OK\r\n$2\r\nok\r\n', `SET/GET: ${JSON.stringify(set)}`);
  console.log(`redis on 127.0.0.1:${p} answers`);
}

const [command, ...args] = process.argv.slice(2);
const commands = {
  outputs: () => outputs(),
  serve: () => serve(args),
  registry: () => registry(args[0] ?? 'process'),
  redis: () => redis(args[0] ?? ''),
};
const run = commands[command ?? ''];
if (run === undefined) {
  console.error(`usage: check.mjs ${Object.keys(commands).join('|')} ...`);
  process.exit(2);
}
try {
  await run();
} catch (err) {
  console.log(`::error::${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
