'use strict';
// Realtime clients for the ChatKitty suite: connection tokens from hubbub's REST token
// endpoint (POST /v1/realtime/tokens, the app's own OAuth token), and official
// `centrifuge` clients (the `ws` package as their WebSocket) on /connection/websocket,
// so that participants, sessions and typing have a connected user to show.

const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { Centrifuge } = require('centrifuge');
const { getToken } = require('./harness');

const WAIT_MS = 10_000;

/** Resolves with the first emission of `event` (rejects after `ms`). */
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

/** Polls `probe()` until it returns a truthy value; returns it. */
async function until(probe, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Connects `username` of application `app` to the hubbub at `h.url`. Returns the
 * connected centrifuge client; `disconnect()` it when done.
 */
async function connect(h, app, username) {
  const oauth = await getToken(h.tokenUrl, app.client_id, app.client_secret);
  assert.equal(oauth.status, 200, `OAuth token: ${JSON.stringify(oauth.data)}`);
  const res = await fetch(`${h.url}/v1/realtime/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${oauth.data.access_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: { username }, ttl: 3600 }),
  });
  const minted = await res.json();
  assert.equal(res.status, 200, `realtime token: ${JSON.stringify(minted)}`);
  const wsUrl = h.url.replace(/^http/, 'ws') + '/connection/websocket';
  const client = new Centrifuge(wsUrl, { websocket: WebSocket, token: minted.token, name: 'chatkitty-suite' });
  const connected = once(client, 'connected');
  client.connect();
  await connected;
  return client;
}

/** Subscribes a connected client to a channel by name; returns the subscription. */
async function subscribe(client, channelName) {
  const sub = client.newSubscription(channelName);
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  return sub;
}

module.exports = { connect, subscribe, once, until, WAIT_MS };
