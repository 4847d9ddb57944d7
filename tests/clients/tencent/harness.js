'use strict';
// Harness of the Tencent client suite: starts `$HUBBUB_BIN serve` on a fresh temp data
// dir (like ../chatkitty/harness.js) and calls the Tencent REST API with UserSigs made by
// Tencent's official `tls-sig-api-v2` npm package.

const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const STARTUP_TIMEOUT_MS = 20_000;
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

/** The last line of stdout that parses as a JSON object. */
function lastJson(text, what) {
  for (const line of text.trim().split('\n').reverse()) {
    const l = line.trim();
    if (l.startsWith('{')) {
      try { return JSON.parse(l); } catch { /* keep looking */ }
    }
  }
  throw new Error(`${what}: stdout has no JSON object:\n${text}`);
}

/** `hubbub app create --json`: the application with its Tencent credential. */
async function createApp(bin, dataDir, name) {
  const { stdout } = await run(bin, ['app', 'create', '--name', name, '--json', '--data-dir', dataDir]);
  const app = lastJson(stdout, `app create --name ${name}`);
  const tencent = app.dialects && app.dialects.tencent;
  assert.ok(tencent, `app create --json prints dialects.tencent: ${stdout}`);
  assert.equal(typeof tencent.sdkappid, 'number', 'dialects.tencent.sdkappid is a number');
  assert.equal(typeof tencent.key, 'string', 'dialects.tencent.key is a string');
  assert.ok(Array.isArray(tencent.admins) && tencent.admins.length > 0, 'dialects.tencent.admins');
  return app;
}

/** `hubbub app credentials --tencent-…`: sets a known SDKAppID, key and admins. */
async function setTencentCredential(bin, dataDir, app, { sdkappid, key, admins }) {
  const { stdout } = await run(bin, ['app', 'credentials', '--app', app.client_id,
    '--tencent-sdkappid', String(sdkappid), '--tencent-key', key,
    '--tencent-admins', admins.join(','), '--json', '--data-dir', dataDir]);
  const all = lastJson(stdout, 'app credentials');
  assert.deepEqual(all.tencent, { sdkappid, key, admins });
  return all.tencent;
}

function startServe(bin, dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
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
        resolve({ child, url });
      }
    };
    const timer = setTimeout(() => finish(new Error(
      `hubbub serve did not print "listening on http://..." within ${STARTUP_TIMEOUT_MS / 1000}s`)),
    STARTUP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    // Drain both pipes for the whole run so the server never blocks on a full pipe.
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

/**
 * Starts hubbub with two applications: `generated` keeps the Tencent credential
 * `app create` made; `reference` gets the SDKAppID and key of the reference's worked
 * example (1400000000, `hubbub-test-key`). Returns { url, generated, reference, stop() }
 * where each app is { sdkappid, key, admins }.
 */
async function startHubbub(reference) {
  const bin = hubbubBin();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubbub-tencent-'));
  let server;
  let generated;
  let referenceApp;
  try {
    generated = (await createApp(bin, dataDir, 'generated')).dialects.tencent;
    const other = await createApp(bin, dataDir, 'reference');
    referenceApp = await setTencentCredential(bin, dataDir, other, reference);
    server = await startServe(bin, dataDir);
  } catch (e) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
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
  return { url: server.url, generated, reference: referenceApp, stop };
}

/** Reverses the UserSig character map and inflates: the sig's JSON document. */
function decodeUserSig(sig) {
  const zlib = require('node:zlib');
  const b64 = sig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  return JSON.parse(zlib.inflateSync(Buffer.from(b64, 'base64')).toString());
}

/**
 * POSTs `body` to /v4/{command} as `identifier` with `usersig`; asserts HTTP 200 and
 * Tencent's envelope, and returns the parsed body.
 */
async function call(url, app, command, body, { identifier = app.admins[0], usersig } = {}) {
  const random = Math.floor(Math.random() * 4294967295);
  const query = new URLSearchParams({
    sdkappid: String(app.sdkappid), identifier, usersig, random: String(random), contenttype: 'json',
  });
  const res = await fetch(`${url}/v4/${command}?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${command}: Tencent answers HTTP 200 always`);
  const answer = await res.json();
  assert.ok(['OK', 'FAIL'].includes(answer.ActionStatus), `${command}: ${JSON.stringify(answer)}`);
  assert.equal(typeof answer.ErrorCode, 'number');
  assert.equal(typeof answer.ErrorInfo, 'string');
  assert.match(answer.RequestId, /^Id-[0-9a-f]+-O-Seq-\d+$/);
  return answer;
}

function ok(answer, what = '') {
  assert.equal(answer.ActionStatus, 'OK', `${what}: ${JSON.stringify(answer)}`);
  assert.equal(answer.ErrorCode, 0);
  assert.equal(answer.ErrorInfo, '');
  return answer.Response;
}

function fail(answer, code, what = '') {
  assert.equal(answer.ActionStatus, 'FAIL', `${what}: ${JSON.stringify(answer)}`);
  assert.equal(answer.ErrorCode, code, `${what}: ${JSON.stringify(answer)}`);
  assert.ok(answer.ErrorInfo.length > 0, `${what}: ErrorInfo is not empty`);
  return answer.ErrorInfo;
}

module.exports = { startHubbub, decodeUserSig, call, ok, fail };
