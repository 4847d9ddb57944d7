'use strict';
// Reported messages (ChannelsApi.listChannelReportedMessages), with reports made by
// hubbub's POST /v1/messages/{id}/reports extension and the realtime `report` rpc.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const axios = require('axios');
const h = require('./harness');
const rt = require('./realtime');

describe('reported messages', { timeout: 60_000 }, () => {
  let hb;
  let ck;
  let jane;
  let bob;
  let room;
  let bad;
  let worse;
  const clients = [];
  before(async () => {
    hb = await h.startHubbub();
    ck = hb.ck;
    const mk = (n) => h.ok(ck.UsersApi.createUser({ name: h.uniq(n), display_name: n, is_guest: false }), `createUser ${n}`);
    jane = await mk('jane');
    bob = await mk('bob');
    room = await h.ok(ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: h.uniq('room') }), 'createChannel');
    bad = await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'bad', user: { username: bob.name } }), 'bad');
    worse = await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'worse', user: { username: bob.name } }), 'worse');
    await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'fine', user: { username: bob.name } }), 'fine');
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    if (hb) await hb.stop();
  });

  async function report(messageId, body, app = hb.app) {
    const tok = await h.getToken(hb.tokenUrl, app.client_id, app.client_secret);
    return axios.post(`${hb.url}/v1/messages/${messageId}/reports`, body,
      { headers: { Authorization: `Bearer ${tok.data.access_token}` }, validateStatus: () => true });
  }

  it('listChannelReportedMessages: empty before any report', async () => {
    const page = await h.ok(ck.ChannelsApi.listChannelReportedMessages(room.id), 'listChannelReportedMessages');
    assert.equal(h.offsetPage(page, 'messages', 'reported').length, 0);
  });

  it('reports count on the message and list it, most recently reported first', async () => {
    const res = await report(bad.id, { reason: 'spam', user: { username: jane.name } });
    assert.equal(res.status, 200, JSON.stringify(res.data));
    assert.equal(res.data.reason, 'spam');
    h.assertMessage(res.data.message, { id: bad.id, report_count: 1 });
    const byApp = await report(bad.id, { reason: 'flagged' });
    assert.equal(byApp.status, 200, JSON.stringify(byApp.data));
    assert.equal(byApp.data.message.report_count, 2);
    const client = await rt.connect(hb, hb.app, jane.name);
    clients.push(client);
    const viaRpc = await client.rpc('report', { message_id: worse.id, reason: 'rude' });
    assert.equal(viaRpc.data.reported, true);

    const page = await h.ok(ck.ChannelsApi.listChannelReportedMessages(room.id, 0, 25), 'listChannelReportedMessages');
    const items = h.offsetPage(page, 'messages', 'reported');
    assert.deepEqual(items.map((m) => m.id), [worse.id, bad.id]);
    h.assertMessage(items[0], { id: worse.id, report_count: 1, body: 'worse' });
    h.assertMessage(items[1], { id: bad.id, report_count: 2 });
    const byId = await h.ok(ck.ChannelsApi.listChannelReportedMessages(room.id, 0, 1, ['id,asc']), 'sorted');
    assert.equal(h.offsetPage(byId, 'messages')[0].id, bad.id);
    assert.equal(byId.page.total_pages, 2);
    const fetched = await h.ok(ck.MessagesApi.retrieveMessage(bad.id), 'retrieveMessage');
    assert.equal(fetched.report_count, 2);
  });

  it('bad input: clear 4xx errors, nothing reported', async () => {
    assert.equal((await report(bad.id, {})).status, 400, 'no reason');
    assert.equal((await report(bad.id, { reason: '' })).status, 400, 'empty reason');
    assert.equal((await report(bad.id, { reason: 'spam', user: { username: bob.name } })).status, 403, 'own message');
    assert.equal((await report(987654321, { reason: 'spam' })).status, 404, 'unknown message');
    assert.equal((await report(bad.id, { reason: 'spam' }, hb.otherApp)).status, 404, 'another app');
    await h.expectApiError(ck.ChannelsApi.listChannelReportedMessages(987654321), 404, 'unknown channel');
    await h.expectApiError(hb.other.ChannelsApi.listChannelReportedMessages(room.id), 404, 'another app list');
    const fetched = await h.ok(ck.MessagesApi.retrieveMessage(bad.id), 'unchanged');
    assert.equal(fetched.report_count, 2);
  });
});
