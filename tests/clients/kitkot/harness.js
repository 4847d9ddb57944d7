'use strict';
// Harness of the kitkot client suite. Like ../chatkitty/harness.js it runs `$HUBBUB_BIN`
// on a fresh temp data dir, and sets everything up through hubbub's own public surfaces:
//
//   hubbub app create --json          → the application, its kitkot api_key
//   hubbub user password --create     → "anchor" and "viewer", with a password
//   hubbub token --for prism          → a PRISM access token of the anchor
//   hubbub serve --listen 127.0.0.1:0
//   POST /v1/channels (Platform API)  → a public room owned by the anchor
//   PUT  /prism/.../live/{id}/start   → the room goes live
//   GET  /kitkot/api/login            → the viewer's session_key
//
// and it runs the seed's samples with their constants (and nothing else) replaced.

const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const STARTUP_TIMEOUT_MS = 20_000;
const LISTEN_RE = /listening on (http:\/\/\S+)/;
const PASSWORD = 'kitkot sample password';

function hubbubBin() {
  const bin = process.env.HUBBUB_BIN;
  if (!bin) {
    throw new Error('HUBBUB_BIN is not set: point it at the hubbub binary, e.g. ' +
      'HUBBUB_BIN=/work/target/debug/hubbub bash run.sh');
  }
  if (!fs.existsSync(bin)) throw new Error(`HUBBUB_BIN=${bin} does not exist`);
  return bin;
}

/** Runs a program to its end; resolves { code, stdout, stderr }. */
function runProgram(file, args, { input, env, timeout = STARTUP_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout, maxBuffer: 4 << 20, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new Error(`${file} ${args.join(' ')}: ${err.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        } else {
          resolve({ code: err ? err.code : 0, stdout, stderr });
        }
      });
    if (input !== undefined) child.stdin.end(input);
  });
}

async function hubbub(bin, args, input) {
  const r = await runProgram(bin, args, { input });
  if (r.code !== 0) {
    throw new Error(`hubbub ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return r.stdout;
}

function lastJson(text, what) {
  for (const line of text.trim().split('\n').reverse()) {
    const l = line.trim();
    if (l.startsWith('{')) {
      try { return JSON.parse(l); } catch { /* keep looking */ }
    }
  }
  try { return JSON.parse(text); } catch { /* fall through */ }
  throw new Error(`${what}: stdout has no JSON object:\n${text}`);
}

function startServe(bin, dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (err, url) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        try { child.kill('SIGKILL'); } catch { /* already gone */ }
        reject(new Error(`${err.message}\n--- hubbub stdout ---\n${stdout}\n--- hubbub stderr ---\n${stderr}`));
      } else {
        resolve({ child, url });
      }
    };
    const timer = setTimeout(() => finish(new Error(
      `hubbub serve did not print "listening on http://..." within ${STARTUP_TIMEOUT_MS / 1000}s`)),
    STARTUP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    // Drain both pipes for the whole run, keeping a bounded tail.
    child.stdout.on('data', (chunk) => {
      if (process.env.HUBBUB_LOG) process.stderr.write(chunk);
      stdout = (stdout + chunk).slice(-65536);
      const m = LISTEN_RE.exec(stdout);
      if (m) finish(null, m[1].replace(/\/+$/, ''));
    });
    child.stderr.on('data', (chunk) => {
      if (process.env.HUBBUB_LOG) process.stderr.write(chunk);
      stderr = (stderr + chunk).slice(-65536);
    });
    child.on('error', (e) => finish(new Error(`cannot start ${bin}: ${e.message}`)));
    child.on('exit', (code, signal) => finish(new Error(
      `hubbub serve exited before listening (code ${code}, signal ${signal})`)));
  });
}

/** fetch + JSON body, asserting the status. */
async function call(url, { method = 'GET', headers = {}, body, status = 200 } = {}) {
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${url} -> ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * A running hubbub with a live room. Returns
 * { url, base (the kitkot BASEURL), apiKey, sessionKey, roomId, kitkot(path, params), stop() }.
 */
async function startHubbub() {
  const bin = hubbubBin();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubbub-kitkot-'));
  let server;
  try {
    const app = lastJson(
      await hubbub(bin, ['app', 'create', '--name', 'kitkot-samples', '--json', '--data-dir', dataDir]),
      'app create');
    const apiKey = app.dialects && app.dialects.kitkot && app.dialects.kitkot.api_key;
    assert.ok(apiKey, `app create --json prints dialects.kitkot.api_key: ${JSON.stringify(app)}`);
    for (const user of ['anchor', 'viewer']) {
      await hubbub(bin, ['user', 'password', '--app', app.client_id, '--user', user, '--create',
        '--data-dir', dataDir], `${PASSWORD}\n`);
    }
    const prismToken = (await hubbub(bin, ['token', '--for', 'prism', '--app', app.client_id,
      '--user', 'anchor', '--data-dir', dataDir])).trim().split('\n').pop().trim();
    assert.ok(prismToken.length > 0, 'hubbub token --for prism prints a token');

    server = await startServe(bin, dataDir);
    const url = server.url;
    const basic = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
    const token = await call(`${url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const channel = await call(`${url}/v1/channels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'PUBLIC', name: 'launch-day', creator: { username: 'anchor' } }),
    });
    const roomId = channel.id;
    assert.equal(typeof roomId, 'number', `a channel id: ${JSON.stringify(channel)}`);
    const started = await call(`${url}/prism/v1/service/live/${roomId}/start`, {
      method: 'PUT',
      headers: { 'x-prism-access-token': prismToken },
    });
    assert.equal(started.data.live.status, 'ON_AIR', JSON.stringify(started));

    const base = `${url}/kitkot/api`;
    const kitkot = (p, params, status = 200) => {
      const q = new URLSearchParams({ api_key: apiKey, ...params });
      return call(`${base}${p}?${q}`, { status });
    };
    const login = await kitkot('/login', { username: 'viewer', password: PASSWORD });
    assert.equal(login.msg, 'success');
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      const { child } = server;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    };
    return { url, base, apiKey, sessionKey: login.session_key, roomId, kitkot, stop };
  } catch (e) {
    if (server) { try { server.child.kill('SIGKILL'); } catch { /* gone */ } }
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.stderr.write(`\n*** hubbub setup failed: ${e.message}\n`);
    throw e;
  }
}

/**
 * The seed sample `file` with the string constants named in `values` replaced, and
 * nothing else: each constant's line must occur exactly once (`NAME = "…"` in Python,
 * `const NAME = "…";` in JavaScript), and every other line stays byte for byte.
 */
function substituteConstants(file, values) {
  const original = fs.readFileSync(file, 'utf8');
  const lines = original.split('\n');
  const replaced = new Set();
  const out = lines.map((line) => {
    const m = /^(const )?([A-Za-z_]+) = "([^"]*)"(;?)$/.exec(line);
    if (!m || !(m[2] in values)) return line;
    assert.ok(!replaced.has(m[2]), `${m[2]} is set once in ${file}`);
    replaced.add(m[2]);
    return `${m[1] || ''}${m[2]} = ${JSON.stringify(String(values[m[2]]))}${m[4]}`;
  });
  assert.deepEqual([...replaced].sort(), Object.keys(values).sort(),
    `every constant was found in ${file}`);
  const changed = out.filter((l, i) => l !== lines[i]).length;
  assert.ok(changed <= Object.keys(values).length);
  return out.join('\n');
}

module.exports = { startHubbub, substituteConstants, runProgram };
