'use strict';
// Shared harness for the ChatKitty-client conformance suite.
//
// startHubbub() creates two applications ("conformance" and "other") in a fresh temp data
// dir with `$HUBBUB_BIN app create`, starts `$HUBBUB_BIN serve --listen 127.0.0.1:0`, waits
// for the "listening on http://..." line and hands back ChatKitty clients built with the
// official wrapper, changing nothing but basePath and authorizationBasePath.

const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const axios = require('axios');
const { ChatKitty } = require('chatkitty');

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

function parseJsonObject(text, what) {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    // Tolerate log lines around the object: take the last line that parses as an object.
    for (const line of trimmed.split('\n').reverse()) {
      const l = line.trim();
      if (l.startsWith('{')) {
        try { return JSON.parse(l); } catch { /* keep looking */ }
      }
    }
  }
  throw new Error(`${what}: stdout is not a JSON object:\n${text}`);
}

async function createApp(bin, dataDir, name) {
  const { stdout } = await run(bin, ['app', 'create', '--name', name, '--json', '--data-dir', dataDir]);
  const app = parseJsonObject(stdout, `app create --name ${name}`);
  for (const k of ['id', 'name', 'client_id', 'client_secret']) {
    assert.ok(app[k] !== undefined && app[k] !== null && app[k] !== '',
      `app create output lacks "${k}": ${stdout}`);
  }
  assert.equal(app.name, name, 'app create echoes the name');
  return app;
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
        resolve({ child, url, logs: () => ({ stdout, stderr }) });
      }
    };
    const timer = setTimeout(() => finish(new Error(
      `hubbub serve did not print "listening on http://..." within ${STARTUP_TIMEOUT_MS / 1000}s`)),
    STARTUP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    // Keep draining both pipes for the whole run so the server never blocks on a full pipe;
    // keep only a bounded tail for diagnostics.
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

function makeClient(app, basePath, authorizationBasePath) {
  return new ChatKitty({
    clientId: app.client_id,
    clientSecret: app.client_secret,
    basePath,
    authorizationBasePath,
  });
}

/**
 * Starts a fresh hubbub with two applications. Returns
 * { url, tokenUrl, app, otherApp, ck, other, client(app, basePath), dataDir, stop() }.
 */
async function startHubbub() {
  try {
    return await startHubbubInner();
  } catch (e) {
    process.stderr.write(`\n*** hubbub startup failed: ${e.message}\n`);
    throw e;
  }
}

async function startHubbubInner() {
  const bin = hubbubBin();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubbub-ck-'));
  let app;
  let otherApp;
  let server;
  try {
    app = await createApp(bin, dataDir, 'conformance');
    otherApp = await createApp(bin, dataDir, 'other');
    server = await startServe(bin, dataDir);
  } catch (e) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const url = server.url;
  const tokenUrl = `${url}/oauth/token`;
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
  return {
    url,
    tokenUrl,
    app,
    otherApp,
    dataDir,
    logs: server.logs,
    ck: makeClient(app, url, tokenUrl),
    other: makeClient(otherApp, url, tokenUrl),
    client: (a, basePath = url) => makeClient(a, basePath, tokenUrl),
    stop,
  };
}

// ---------------------------------------------------------------------------------------
// Calling helpers

function describeAxiosError(e) {
  if (!e || !e.isAxiosError) return e && e.stack ? e.stack : String(e);
  const c = e.config || {};
  const method = (c.method || '?').toUpperCase();
  let url = c.url || '?';
  const r = e.response;
  let body = '';
  if (c.data !== undefined && typeof c.data === 'string') body = ` body=${c.data}`;
  if (!r) return `${method} ${url}${body} -> no response (${e.code || e.message})`;
  return `${method} ${url}${body} -> ${r.status} ${JSON.stringify(r.data)}`;
}

/** Awaits a client call, asserts HTTP 200 and returns the response body. */
async function ok(promise, what = '') {
  let res;
  try {
    res = await promise;
  } catch (e) {
    const err = new Error(`${what ? what + ': ' : ''}unexpected failure: ${describeAxiosError(e)}`);
    err.cause = e;
    throw err;
  }
  const req = `${(res.config.method || '').toUpperCase()} ${res.config.url}`;
  assert.equal(res.status, 200, `${what} ${req}: expected 200, got ${res.status}`);
  return res.data;
}

/** Awaits a client call that must fail; returns the axios error (response asserted present). */
async function fails(promise, what = '') {
  let res;
  try {
    res = await promise;
  } catch (e) {
    if (!e || !e.isAxiosError) throw e;
    assert.ok(e.response, `${what}: expected an HTTP error response, got ${describeAxiosError(e)}`);
    return e;
  }
  const req = `${(res.config.method || '').toUpperCase()} ${res.config.url}`;
  assert.fail(`${what} ${req}: expected failure, got ${res.status} ${JSON.stringify(res.data)}`);
}

/** Asserts an ApiError {error, message, timestamp} with the given status (or one of a list). */
async function expectApiError(promise, status, what = '') {
  const e = await fails(promise, what);
  const statuses = Array.isArray(status) ? status : [status];
  const r = e.response;
  assert.ok(statuses.includes(r.status),
    `${what}: expected status ${statuses.join(' or ')}, got ${describeAxiosError(e)}`);
  if (String(e.config.method).toUpperCase() !== 'HEAD') assertApiError(r.data, what);
  return e;
}

function assertApiError(body, what = '') {
  assert.ok(body && typeof body === 'object', `${what}: error body is a JSON object, got ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string', `${what}: ApiError.error is a string: ${JSON.stringify(body)}`);
  assert.ok(body.error.length > 0, `${what}: ApiError.error non-empty`);
  assert.equal(typeof body.message, 'string', `${what}: ApiError.message is a string: ${JSON.stringify(body)}`);
  assert.ok(body.message.length > 0, `${what}: ApiError.message non-empty`);
  assertTime(body.timestamp, `${what}: ApiError.timestamp`);
}

// ---------------------------------------------------------------------------------------
// Shape assertions (snake_case per the 2.106.8 schema, except isGuest)

function assertId(v, what = 'id') {
  assert.equal(typeof v, 'number', `${what} is a number, got ${JSON.stringify(v)}`);
  assert.ok(Number.isSafeInteger(v) && v > 0, `${what} is a positive integer, got ${v}`);
}

function assertTime(v, what = 'time') {
  assert.equal(typeof v, 'string', `${what} is an ISO date-time string, got ${JSON.stringify(v)}`);
  assert.match(v, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/,
    `${what} is ISO-8601 with a zone: ${v}`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} parses: ${v}`);
}

function assertPlainObject(v, what) {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v),
    `${what} is a JSON object, got ${JSON.stringify(v)}`);
}

function assertApplication(a, what = 'ApplicationResource') {
  assertPlainObject(a, what);
  assertId(a.id, `${what}.id`);
  assertTime(a.created_time, `${what}.created_time`);
  assert.equal(typeof a.key, 'string', `${what}.key is a string`);
  assert.ok(a.key.length > 0, `${what}.key non-empty`);
  assertPlainObject(a.properties, `${what}.properties`);
}

/** ChatUserProperties / ChatUserResource. `expect` fields are compared exactly. */
function assertUser(u, expect = {}, what = 'ChatUserResource') {
  assertPlainObject(u, what);
  assertId(u.id, `${what}.id`);
  assert.ok(['PERSON', 'BOT'].includes(u.type), `${what}.type PERSON|BOT, got ${u.type}`);
  assert.equal(typeof u.name, 'string', `${what}.name`);
  assert.equal(typeof u.display_name, 'string', `${what}.display_name`);
  assert.equal(typeof u.display_picture_url, 'string', `${what}.display_picture_url`);
  assert.ok(u.display_picture_url.length > 0, `${what}.display_picture_url non-empty`);
  assert.equal(typeof u.isGuest, 'boolean', `${what}.isGuest (camelCase) is a boolean: ${JSON.stringify(u)}`);
  assertPlainObject(u.presence, `${what}.presence`);
  assert.equal(typeof u.presence.online, 'boolean', `${what}.presence.online`);
  assert.equal(typeof u.presence.status, 'string', `${what}.presence.status`);
  assertPlainObject(u.properties, `${what}.properties`);
  if (u.call_status !== undefined && u.call_status !== null) {
    assert.ok(['AVAILABLE', 'IN_CALL'].includes(u.call_status), `${what}.call_status`);
  }
  assert.equal(u.displayName, undefined, `${what}: no camelCase displayName`);
  assert.equal(u.is_guest, undefined, `${what}: isGuest is spelled isGuest, not is_guest`);
  for (const [k, v] of Object.entries(expect)) {
    assert.deepEqual(u[k], v, `${what}.${k}`);
  }
}

/** ChannelResource. */
function assertChannel(c, expect = {}, what = 'ChannelResource') {
  assertPlainObject(c, what);
  assertId(c.id, `${what}.id`);
  assert.ok(['DIRECT', 'PUBLIC', 'PRIVATE'].includes(c.type), `${what}.type, got ${c.type}`);
  assertTime(c.created_time, `${what}.created_time`);
  assertPlainObject(c.properties, `${what}.properties`);
  if (c.type === 'DIRECT') {
    assert.ok(Array.isArray(c.members), `${what}.members is an array for DIRECT: ${JSON.stringify(c)}`);
    c.members.forEach((m, i) => assertUser(m, {}, `${what}.members[${i}]`));
    assert.ok(!('name' in c), `${what}: DIRECT channel has no name field: ${JSON.stringify(c)}`);
  } else {
    assert.equal(typeof c.name, 'string', `${what}.name`);
    assert.ok(c.name.length > 0, `${what}.name non-empty`);
    assert.equal(typeof c.display_name, 'string', `${what}.display_name`);
  }
  if (c.creator !== undefined && c.creator !== null) assertUser(c.creator, {}, `${what}.creator`);
  assert.equal(c.createdTime, undefined, `${what}: no camelCase createdTime`);
  for (const [k, v] of Object.entries(expect)) {
    assert.deepEqual(c[k], v, `${what}.${k}`);
  }
}

/** MessageResource (any variant). */
function assertMessage(m, expect = {}, what = 'MessageResource') {
  assertPlainObject(m, what);
  assertId(m.id, `${what}.id`);
  assert.ok(['TEXT', 'FILE', 'SYSTEM_TEXT', 'SYSTEM_FILE'].includes(m.type), `${what}.type, got ${m.type}`);
  assertId(m.channel_id, `${what}.channel_id`);
  assertTime(m.created_time, `${what}.created_time`);
  // Top-level messages are level 0; replies say what level they expect.
  assert.equal(m.nested_level, 'nested_level' in expect ? expect.nested_level : 0, `${what}.nested_level`);
  assertPlainObject(m.properties, `${what}.properties`);
  if (m.type === 'TEXT' || m.type === 'SYSTEM_TEXT') {
    assert.equal(typeof m.body, 'string', `${what}.body`);
  } else {
    assertFile(m.file, `${what}.file`);
  }
  if (m.type === 'TEXT' || m.type === 'FILE') {
    assertUser(m.user, {}, `${what}.user`);
  } else {
    assert.ok(!('user' in m), `${what}: ${m.type} message has no user field: ${JSON.stringify(m)}`);
  }
  if (m.last_edited_time !== undefined && m.last_edited_time !== null) assertTime(m.last_edited_time, `${what}.last_edited_time`);
  if (m.group_tag !== undefined && m.group_tag !== null) assert.equal(typeof m.group_tag, 'string', `${what}.group_tag`);
  assert.equal(m.channelId, undefined, `${what}: no camelCase channelId`);
  assert.equal(m.nestedLevel, undefined, `${what}: no camelCase nestedLevel`);
  for (const [k, v] of Object.entries(expect)) {
    assert.deepEqual(m[k], v, `${what}.${k}`);
  }
}

function assertFile(f, what = 'file') {
  assertPlainObject(f, what);
  assert.ok(['HOSTED', 'EXTERNAL'].includes(f.type), `${what}.type`);
  assert.equal(typeof f.url, 'string', `${what}.url`);
  assert.equal(typeof f.name, 'string', `${what}.name`);
  assert.equal(typeof f.content_type, 'string', `${what}.content_type`);
  assert.equal(typeof f.size, 'number', `${what}.size`);
}

/** HAL offset page; returns the embedded items (empty when _embedded is absent). */
function offsetPage(body, rel, what = 'page') {
  assertPlainObject(body, what);
  const items = embedded(body, rel, what);
  assertPlainObject(body.page, `${what}.page`);
  for (const k of ['number', 'size', 'total_elements', 'total_pages']) {
    assert.equal(typeof body.page[k], 'number', `${what}.page.${k} is a number: ${JSON.stringify(body.page)}`);
  }
  assert.ok(body.page.size >= 1, `${what}.page.size >= 1`);
  assert.equal(body.page.total_pages, Math.ceil(body.page.total_elements / body.page.size),
    `${what}.page.total_pages = ceil(total_elements / size): ${JSON.stringify(body.page)}`);
  assert.ok(items.length <= body.page.size, `${what}: no more items than page.size`);
  assertSelfLink(body, what);
  return items;
}

/** HAL cursor page; returns the embedded items (each checked against `expectEach`). */
function cursorPage(body, what = 'cursor page', expectEach = {}) {
  assertPlainObject(body, what);
  const items = embedded(body, 'messages', what);
  assertPlainObject(body.page, `${what}.page`);
  assert.equal(typeof body.page.size, 'number', `${what}.page.size: ${JSON.stringify(body.page)}`);
  assert.equal(typeof body.page.total, 'number', `${what}.page.total: ${JSON.stringify(body.page)}`);
  assert.ok(items.length <= body.page.size, `${what}: no more items than page.size`);
  for (const k of ['start', 'next']) {
    const v = body.page[k];
    if (v !== undefined && v !== null) {
      assert.ok(typeof v === 'string' || typeof v === 'number', `${what}.page.${k} string|number`);
    }
  }
  assertSelfLink(body, what);
  items.forEach((m, i) => assertMessage(m, expectEach, `${what} item ${i}`));
  return items;
}

function embedded(body, rel, what) {
  if (body._embedded === undefined || body._embedded === null) return [];
  assertPlainObject(body._embedded, `${what}._embedded`);
  const items = body._embedded[rel];
  if (items === undefined && Object.keys(body._embedded).length === 0) return [];
  assert.ok(Array.isArray(items), `${what}._embedded.${rel} is an array: ${JSON.stringify(body._embedded).slice(0, 300)}`);
  return items;
}

function assertSelfLink(body, what) {
  assertPlainObject(body._links, `${what}._links`);
  assertPlainObject(body._links.self, `${what}._links.self`);
  assert.equal(typeof body._links.self.href, 'string', `${what}._links.self.href`);
}

function nextHref(body) {
  const l = body && body._links && body._links.next;
  return l && typeof l.href === 'string' ? l.href : null;
}

// ---------------------------------------------------------------------------------------
// Token + raw HTTP

async function getToken(tokenUrl, clientId, clientSecret) {
  const res = await axios.post(tokenUrl, new URLSearchParams({ grant_type: 'client_credentials' }).toString(), {
    auth: { username: clientId, password: clientSecret },
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    validateStatus: () => true,
  });
  return res;
}

/** GET an href (absolute or relative to the server) with the app's bearer token. */
async function rawGet(h, app, href) {
  const tok = await getToken(h.tokenUrl, app.client_id, app.client_secret);
  assert.equal(tok.status, 200, `token: ${JSON.stringify(tok.data)}`);
  const url = new URL(href, h.url + '/').toString();
  try {
    return await axios.get(url, {
      headers: { Authorization: `Bearer ${tok.data.access_token}`, Accept: 'application/vnd.chatkitty+json,*/*;q=0.8' },
    });
  } catch (e) {
    throw new Error(`raw GET failed: ${describeAxiosError(e)}`);
  }
}

// ---------------------------------------------------------------------------------------

const RUN = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
let seq = 0;
/** A unique, lowercase, ASCII name for this run. */
function uniq(prefix) {
  seq += 1;
  return `${prefix}-${RUN}-${seq}`;
}

module.exports = {
  startHubbub,
  ok,
  fails,
  expectApiError,
  assertApiError,
  assertId,
  assertTime,
  assertPlainObject,
  assertApplication,
  assertUser,
  assertChannel,
  assertMessage,
  assertFile,
  offsetPage,
  cursorPage,
  nextHref,
  getToken,
  rawGet,
  describeAxiosError,
  uniq,
  RUN,
};
