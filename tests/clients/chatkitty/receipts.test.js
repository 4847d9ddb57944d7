'use strict';
// Read receipts (MessagesApi.listMessageReadReceipts), application read-receipt
// summaries (ApplicationApi.retrieveApplicationMessageReadReceiptSummaries) and the
// users API's unread state, with read marks moved by hubbub's
// POST /v1/channels/{id}/read extension and by the realtime `read` rpc.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const axios = require('axios');
const h = require('./harness');
const rt = require('./realtime');

describe('read receipts', { timeout: 60_000 }, () => {
  let hb;
  let ck;
  let jane;
  let bob;
  let room;
  const sent = [];
  const clients = [];
  before(async () => {
    hb = await h.startHubbub();
    ck = hb.ck;
    const mk = (n) => h.ok(ck.UsersApi.createUser({ name: h.uniq(n), display_name: n, is_guest: false }), `createUser ${n}`);
    jane = await mk('jane');
    bob = await mk('bob');
    room = await h.ok(ck.ChannelsApi.createChannel({
      type: 'PRIVATE', name: h.uniq('team'), members: [{ username: jane.name }, { username: bob.name }],
    }), 'createChannel');
    for (const body of ['one', 'two', 'three']) {
      sent.push(await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body, user: { username: bob.name } }), body));
    }
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    if (hb) await hb.stop();
  });

  async function markRead(user, messageId) {
    const tok = await h.getToken(hb.tokenUrl, hb.app.client_id, hb.app.client_secret);
    const res = await axios.post(`${hb.url}/v1/channels/${room.id}/read`,
      { user: { username: user.name }, ...(messageId ? { message_id: messageId } : {}) },
      { headers: { Authorization: `Bearer ${tok.data.access_token}` }, validateStatus: () => true });
    assert.equal(res.status, 200, `POST /v1/channels/${room.id}/read: ${JSON.stringify(res.data)}`);
    return res.data;
  }

  it('unread state before anything is read: counts, the unread filter and summaries', async () => {
    const count = await h.ok(ck.UsersApi.countUserUnreadMessages(jane.id), 'countUserUnreadMessages');
    assert.equal(count.count, 3);
    const summaries = await h.ok(ck.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ page: 0, size: 25 }),
      'retrieveApplicationMessageReadReceiptSummaries');
    const items = h.offsetPage(summaries, 'summaries', 'summaries');
    assert.equal(items.length, 1, JSON.stringify(items));
    assert.equal(items[0].count, 3);
    h.assertUser(items[0].user, { id: jane.id });
    h.assertChannel(items[0].channel, { id: room.id, type: 'PRIVATE' });
    const none = await h.ok(ck.MessagesApi.listMessageReadReceipts(sent[0].id), 'listMessageReadReceipts');
    assert.equal(h.offsetPage(none, 'receipts', 'no receipts').length, 0);
  });

  it('listMessageReadReceipts: who read a message and when', async () => {
    const mark = await markRead(jane, sent[1].id);
    assert.equal(mark.last_read_seq, sent[1].seq);
    h.assertTime(mark.created_time, 'read mark time');
    for (const m of [sent[0], sent[1]]) {
      const page = await h.ok(ck.MessagesApi.listMessageReadReceipts(m.id, 0, 10), `receipts of ${m.body}`);
      const receipts = h.offsetPage(page, 'receipts', 'receipts');
      assert.equal(receipts.length, 1);
      h.assertTime(receipts[0].created_time, 'MessageReadReceiptResource.created_time');
      assert.equal(receipts[0].created_time, mark.created_time);
      h.assertUser(receipts[0].user, { id: jane.id, name: jane.name });
    }
    const unread = await h.ok(ck.MessagesApi.listMessageReadReceipts(sent[2].id), 'receipts of three');
    assert.equal(h.offsetPage(unread, 'receipts').length, 0, 'nobody read the third yet');
    const count = await h.ok(ck.UsersApi.countUserUnreadMessages(jane.id), 'count after read');
    assert.equal(count.count, 1);
    const unreadMessages = h.cursorPage(await h.ok(ck.UsersApi.listUserMessages(jane.id, 25, undefined, undefined, undefined, true),
      'listUserMessages unread'), 'unread messages');
    assert.deepEqual(unreadMessages.map((m) => m.id), [sent[2].id]);
  });

  it('the realtime read rpc marks a connected user\'s channel read', async () => {
    const client = await rt.connect(hb, hb.app, jane.name);
    clients.push(client);
    const result = await client.rpc('read', { channel: room.name });
    assert.equal(result.data.last_read_seq, sent[2].seq);
    const count = await h.ok(ck.UsersApi.countUserUnreadMessages(jane.id), 'count after rpc');
    assert.equal(count.count, 0);
    const receipts = h.offsetPage(await h.ok(ck.MessagesApi.listMessageReadReceipts(sent[2].id), 'receipts of three'), 'receipts');
    assert.deepEqual(receipts.map((r) => r.user.id), [jane.id]);
    const summaries = await h.ok(ck.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ page: 0, size: 25 }), 'summaries');
    assert.equal(h.offsetPage(summaries, 'summaries').length, 0, 'nobody has unread messages');
    const withUnread = await h.ok(ck.UsersApi.listUsers(undefined, undefined, undefined, undefined, true), 'listUsers unread');
    assert.equal(h.offsetPage(withUnread, 'users').length, 0);
  });

  it('summaries follow new messages per member', async () => {
    await h.ok(ck.ChannelsApi.sendChannelMessage(room.id, { type: 'TEXT', body: 'four', user: { username: jane.name } }), 'four');
    const summaries = await h.ok(ck.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ page: 0, size: 25, sort: ['id'] }), 'summaries');
    const items = h.offsetPage(summaries, 'summaries');
    assert.equal(items.length, 1);
    assert.equal(items[0].user.id, bob.id, 'bob has not read jane\'s message');
    assert.equal(items[0].count, 1);
  });

  it('bad input: unknown and foreign messages are 404', async () => {
    await h.expectApiError(ck.MessagesApi.listMessageReadReceipts(987654321), 404, 'unknown message');
    await h.expectApiError(hb.other.MessagesApi.listMessageReadReceipts(sent[0].id), 404, 'another app');
    await h.expectApiError(ck.MessagesApi.listMessageReadReceipts(sent[0].id, 0, 10, ['password']), 400, 'bad sort');
    const empty = await h.ok(hb.other.ApplicationApi.retrieveApplicationMessageReadReceiptSummaries({ page: 0, size: 5 }), 'other app summaries');
    assert.equal(h.offsetPage(empty, 'summaries').length, 0);
  });
});
