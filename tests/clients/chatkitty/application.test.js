'use strict';
// Application operations, OAuth client-credentials, and the /v1 prefix.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const axios = require('axios');
const FormData = require('form-data');
const { ChatKitty } = require('chatkitty');
const h = require('./harness');

describe('application + auth', { timeout: 60_000 }, () => {
  let hb;
  before(async () => { hb = await h.startHubbub(); });
  after(async () => { if (hb) await hb.stop(); });

  it('retrieveApplication returns the application created by the CLI', async () => {
    const a = await h.ok(hb.ck.ApplicationApi.retrieveApplication(), 'retrieveApplication');
    h.assertApplication(a);
    assert.equal(String(a.id), String(hb.app.id), 'application id matches `app create` output');
    assert.equal(a.createdTime, undefined, 'no camelCase createdTime');
    assert.ok(!JSON.stringify(a).includes(hb.app.client_secret), 'client secret not exposed');

    const o = await h.ok(hb.other.ApplicationApi.retrieveApplication(), 'retrieveApplication (other)');
    h.assertApplication(o);
    assert.equal(String(o.id), String(hb.otherApp.id));
    assert.notEqual(o.id, a.id, 'two applications have distinct ids');
    assert.notEqual(o.key, a.key, 'two applications have distinct keys');
  });

  it('retrieveApplicationSettings / updateApplicationSettings round-trip', async () => {
    const api = hb.ck.ApplicationApi;
    const s0 = await h.ok(api.retrieveApplicationSettings(), 'retrieveApplicationSettings');
    const toggles = ['ENABLED', 'DISABLED'];
    assert.ok(toggles.includes(s0.guest_users), `guest_users is ENABLED|DISABLED: ${JSON.stringify(s0)}`);
    assert.ok(toggles.includes(s0.user_created_channels), `user_created_channels is ENABLED|DISABLED: ${JSON.stringify(s0)}`);

    for (const [g, u] of [['ENABLED', 'DISABLED'], ['DISABLED', 'ENABLED']]) {
      const put = await h.ok(api.updateApplicationSettings({ guest_users: g, user_created_channels: u }),
        `updateApplicationSettings ${g}/${u}`);
      assert.equal(put.guest_users, g, 'PUT response guest_users');
      assert.equal(put.user_created_channels, u, 'PUT response user_created_channels');
      const got = await h.ok(api.retrieveApplicationSettings(), 'retrieveApplicationSettings after PUT');
      assert.equal(got.guest_users, g, 'GET after PUT guest_users');
      assert.equal(got.user_created_channels, u, 'GET after PUT user_created_channels');
    }

    // Settings are per application.
    const other = await h.ok(hb.other.ApplicationApi.updateApplicationSettings(
      { guest_users: 'ENABLED', user_created_channels: 'DISABLED' }), 'other app PUT settings');
    assert.equal(other.guest_users, 'ENABLED');
    const mine = await h.ok(api.retrieveApplicationSettings(), 'settings unaffected by other app');
    assert.equal(mine.guest_users, 'DISABLED');
    assert.equal(mine.user_created_channels, 'ENABLED');
  });

  it('token endpoint: client_credentials with Basic auth (multipart and urlencoded)', async () => {
    // multipart/form-data, exactly as the ChatKitty wrapper sends it
    const fd = new FormData();
    fd.append('grant_type', 'client_credentials');
    const mp = await axios.post(hb.tokenUrl, fd, {
      auth: { username: hb.app.client_id, password: hb.app.client_secret },
      headers: { ...fd.getHeaders(), 'Content-Length': fd.getLengthSync() },
      validateStatus: () => true,
    });
    assert.equal(mp.status, 200, `multipart token: ${mp.status} ${JSON.stringify(mp.data)}`);
    assert.equal(typeof mp.data.access_token, 'string');
    assert.ok(mp.data.access_token.length > 0);
    assert.equal(typeof mp.data.expires_in, 'number', `expires_in is a number: ${JSON.stringify(mp.data)}`);
    assert.ok(mp.data.expires_in > 0);
    if (mp.data.token_type !== undefined) assert.match(mp.data.token_type, /^bearer$/i);

    const ue = await h.getToken(hb.tokenUrl, hb.app.client_id, hb.app.client_secret);
    assert.equal(ue.status, 200, `urlencoded token: ${ue.status} ${JSON.stringify(ue.data)}`);
    assert.equal(typeof ue.data.access_token, 'string');
  });

  it('token endpoint: bad client secret -> 401 {error, error_description}', async () => {
    const res = await h.getToken(hb.tokenUrl, hb.app.client_id, 'definitely-not-the-secret');
    assert.equal(res.status, 401, `bad secret: ${res.status} ${JSON.stringify(res.data)}`);
    assert.equal(typeof res.data.error, 'string', `AuthenticationError.error: ${JSON.stringify(res.data)}`);
    assert.equal(typeof res.data.error_description, 'string', `AuthenticationError.error_description: ${JSON.stringify(res.data)}`);
    assert.ok(!res.data.access_token, 'no token issued');

    const unknown = await h.getToken(hb.tokenUrl, 'no-such-client', 'x');
    assert.equal(unknown.status, 401, `unknown client: ${unknown.status} ${JSON.stringify(unknown.data)}`);
    assert.equal(typeof unknown.data.error, 'string');
    assert.equal(typeof unknown.data.error_description, 'string');

    // ... and the wrapper surfaces it as a rejected call.
    const bad = new ChatKitty({
      clientId: hb.app.client_id,
      clientSecret: 'definitely-not-the-secret',
      basePath: hb.url,
      authorizationBasePath: hb.tokenUrl,
    });
    await assert.rejects(bad.ApplicationApi.retrieveApplication(), (e) => {
      assert.equal(e.response && e.response.status, 401, h.describeAxiosError(e));
      return true;
    });
  });

  it('API calls without or with a bogus bearer token -> 401', async () => {
    for (const headers of [{}, { Authorization: 'Bearer not-a-real-token' }]) {
      const res = await axios.get(`${hb.url}/application`, { headers, validateStatus: () => true });
      assert.equal(res.status, 401, `GET /application with ${JSON.stringify(headers)}: ${res.status} ${JSON.stringify(res.data)}`);
      assert.ok(res.data && typeof res.data.error === 'string', `401 body has error: ${JSON.stringify(res.data)}`);
    }
  });

  it('the same operations work with basePath = URL + /v1', async () => {
    const v1 = hb.client(hb.app, `${hb.url}/v1`);
    const a = await h.ok(v1.ApplicationApi.retrieveApplication(), 'v1 retrieveApplication');
    h.assertApplication(a);
    assert.equal(String(a.id), String(hb.app.id));

    const name = h.uniq('v1user');
    const u = await h.ok(v1.UsersApi.createUser({ name, display_name: 'V One', is_guest: false }), 'v1 createUser');
    h.assertUser(u, { name, display_name: 'V One', isGuest: false });

    const got = await h.ok(v1.UsersApi.retrieveUser(u.id), 'v1 retrieveUser');
    h.assertUser(got, { id: u.id, name });
    // visible through the un-prefixed path too: it is one API
    const same = await h.ok(hb.ck.UsersApi.retrieveUser(u.id), 'unprefixed retrieveUser');
    assert.equal(same.name, name);

    const page = await h.ok(v1.UsersApi.listUsers(undefined, undefined, undefined, name), 'v1 listUsers name=');
    const items = h.offsetPage(page, 'users', 'v1 listUsers');
    assert.deepEqual(items.map((x) => x.id), [u.id]);

    const s = await h.ok(v1.ApplicationApi.retrieveApplicationSettings(), 'v1 retrieveApplicationSettings');
    assert.ok(['ENABLED', 'DISABLED'].includes(s.guest_users));
  });
});
