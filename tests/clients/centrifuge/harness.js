'use strict';
// Shared harness for the centrifuge-client conformance suite.
//
// startHubbub() creates an application in a fresh temp data dir with
// `$HUBBUB_BIN app create`, starts `$HUBBUB_BIN serve --listen 127.0.0.1:0`, waits for the
// "listening on http://..." line, and hands back helpers: REST calls with the app's
// OAuth token, connection tokens minted over REST (or by `$HUBBUB_BIN token`), and official `centrifuge`
// clients (with the `ws` package as their WebSocket) pointed at /connection/websocket.

const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { Centrifuge } = require('centrifuge');

const STARTUP_TIMEOUT_MS = 20_000;
const WAIT_MS = 10_000;
const LISTEN_RE = /listening on (http:\/\/\S+)/;

function hubbubBin() {
  const bin = process.env.HUBBUB_BIN;
  if (!bin) {
    throw new Error('HUBBUB_BIN is not set: point it at the hubbub binary, e.g. ' +
      'HUBBUB_BIN=/work/target/debug/hubbub node --test');
  }
  if (!fs.existsSync(bin)) throw new Error(`HUBBUB_BIN=${bin} does not exist`);
  return bin;
}

function run(bin, args) {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: STARTUP_TIMEOUT_MS, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

function lastJsonObject(text, what) {
  for (const line of text.trim().split('\n').reverse()) {
    const l = line.trim();
    if (l.startsWith('{')) {
      try { return JSON.parse(l); } catch { /* keep looking */ }
    }
  }
  throw new Error(`${what}: stdout has no JSON object:\n${text}`);
}

function startServe(bin, dataDir, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    let done = false;
    const verbose = !!process.env.HUBBUB_LOG;
    const finish = (err, url) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        try { child.kill('SIGKILL'); } catch { /* already gone */ }
        reject(new Error(`${err.message}\n--- hubbub stdout ---\n${stdout}\n--- hubbub stderr ---\n${stderr}`));
      } else {
        resolve({ child, url, logs: () => ({ stdout, stderr }) });
      }
    };
    const timer = setTimeout(() => finish(new Error(
      `hubbub serve did not print "listening on http://..." within ${STARTUP_TIMEOUT_MS / 1000}s`)),
    STARTUP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (verbose) process.stderr.write(chunk);
      stdout = (stdout + chunk).slice(-65536);
      const m = LISTEN_RE.exec(stdout);
      if (m && !done) finish(null, m[1].replace(/\/+$/, ''));
    });
    child.stderr.on('data', (chunk) => {
      if (verbose) process.stderr.write(chunk);
      stderr = (stderr + chunk).slice(-65536);
    });
    child.on('error', (e) => finish(new Error(`cannot start ${bin}: ${e.message}`)));
    child.on('exit', (code, signal) => finish(new Error(
      `hubbub serve exited before listening (code ${code}, signal ${signal})`)));
  });
}

/** Resolves with the first emission of `event` on `emitter` (rejects after `ms`). */
function once(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    const on = (ctx) => {
      clearTimeout(t);
      emitter.removeListener(event, on);
      resolve(ctx);
    };
    emitter.on(event, on);
  });
}

/** Waits until `predicate()` is true (polling), or fails with `what`. */
async function until(predicate, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts a fresh hubbub with one application. Returns helpers:
 * { url, wsUrl, app, rest(method, path, body), user(name), channel(type, name, members),
 *   send(channelId, user, body), token(user, ttl) (REST), cliToken(user, ttl) (CLI),
 *   client(opts), stop() }.
 */
async function startHubbub(env = {}) {
  const bin = hubbubBin();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubbub-cf-'));
  let app;
  let server;
  try {
    const { stdout } = await run(bin, ['app', 'create', '--name', 'centrifuge', '--json', '--data-dir', dataDir]);
    app = lastJsonObject(stdout, 'app create');
    server = await startServe(bin, dataDir, env);
  } catch (e) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.stderr.write(`\n*** hubbub startup failed: ${e.message}\n`);
    throw e;
  }
  const url = server.url;
  const wsUrl = url.replace(/^http/, 'ws') + '/connection/websocket';
  const basic = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
  const tokenRes = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(tokenRes.status, 200, 'OAuth token');
  const bearer = (await tokenRes.json()).access_token;

  async function rest(method, p, body) {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** A connection token from the admin REST endpoint `POST /v1/realtime/tokens`. */
  async function token(user, ttl = 3600) {
    const minted = await rest('POST', '/v1/realtime/tokens', { user: { username: user }, ttl });
    assert.match(minted.token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `a JWT, got ${JSON.stringify(minted)}`);
    assert.equal(minted.expires_in, ttl);
    return minted.token;
  }

  /** A connection token minted by the CLI: `hubbub token --app ID --user NAME --ttl S`. */
  async function cliToken(user, ttl = 3600) {
    const { stdout } = await run(bin, ['token', '--app', app.client_id, '--user', user, '--ttl', String(ttl), '--data-dir', dataDir]);
    const t = stdout.trim();
    assert.match(t, /^[\w-]+\.[\w-]+\.[\w-]+$/, `hubbub token prints a JWT, got ${stdout}`);
    return t;
  }

  const clients = [];
  /** An official centrifuge client; `sockets` lists its ws instances (to cut them). */
  function client(opts = {}) {
    const sockets = [];
    class TrackedWebSocket extends WebSocket {
      constructor(...args) {
        super(...args);
        sockets.push(this);
      }
    }
    const c = new Centrifuge(wsUrl, { websocket: TrackedWebSocket, minReconnectDelay: 200, maxReconnectDelay: 1000, ...opts });
    c.sockets = sockets;
    clients.push(c);
    return c;
  }

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    for (const c of clients) {
      try { c.disconnect(); } catch { /* ignore */ }
    }
    const { child } = server;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 8000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  return {
    url,
    wsUrl,
    app,
    logs: server.logs,
    rest,
    user: (name) => rest('POST', '/v1/users', { name, display_name: name }),
    channel: (type, name, members = []) => rest('POST', '/v1/channels', {
      type, name, members: members.map((m) => ({ username: m })),
    }),
    send: (channelId, user, body) => rest('POST', `/v1/channels/${channelId}/messages`, {
      type: 'TEXT', body, ...(user ? { user: { username: user } } : {}),
    }),
    token,
    cliToken,
    client,
    stop,
  };
}

const RUN = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
let seq = 0;
/** A unique lowercase name for this run. */
function uniq(prefix) {
  seq += 1;
  return `${prefix}-${RUN}-${seq}`;
}

module.exports = { startHubbub, once, until, uniq, WAIT_MS };
