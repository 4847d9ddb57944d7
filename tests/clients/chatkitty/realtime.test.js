'use strict';
// Participants (ChannelsApi.listChannelParticipants), user and chat sessions
// (UserSessionsApi.listUserSessions, ChatSessionsApi.listChatSessions), presence.online
// and keystrokes (ChannelsApi.sendChannelKeystrokes) with a user connected over the
// realtime gateway through the official `centrifuge` client.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const rt = require('./realtime');

function assertUserSession(s, what = 'ChatUserSessionResource') {
  h.assertPlainObject(s, what);
  h.assertId(s.id, `${what}.id`);
  h.assertTime(s.created_time, `${what}.created_time`);
  assert.ok(['ACTIVE', 'ENDED'].includes(s.state), `${what}.state`);
  if (s.state === 'ENDED') h.assertTime(s.end_time, `${what}.end_time`);
  else assert.ok(s.end_time === undefined || s.end_time === null, `${what}: no end_time while ACTIVE`);
  h.assertUser(s.user, {}, `${what}.user`);
}

describe('participants, sessions and keystrokes', { timeout: 60_000 }, () => {
  let hb;
  let ck;
  let jane;
  let bob;
  let room;
  let client;
  let sub;
  before(async () => {
    hb = await h.startHubbub();
    ck = hb.ck;
    const mk = (n) => h.ok(ck.UsersApi.createUser({ name: h.uniq(n), display_name: n, is_guest: false }), `createUser ${n}`);
    jane = await mk('jane');
    bob = await mk('bob');
    room = await h.ok(ck.ChannelsApi.createChannel({
      type: 'PUBLIC', name: h.uniq('lobby'), members: [{ username: jane.name }, { username: bob.name }],
    }), 'createChannel');
  });
  after(async () => {
    if (client) client.disconnect();
    if (hb) await hb.stop();
  });

  it('a connected user is online and has an ACTIVE user session', async () => {
    const offline = await h.ok(ck.UsersApi.retrieveUser(jane.id), 'retrieveUser before');
    assert.equal(offline.presence.online, false);
    client = await rt.connect(hb, hb.app, jane.name);
    const online = await h.ok(ck.UsersApi.retrieveUser(jane.id), 'retrieveUser after');
    assert.equal(online.presence.online, true);
    const sessions = await rt.until(async () => {
      const page = await h.ok(ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'ACTIVE'), 'listUserSessions');
      const items = h.offsetPage(page, 'sessions', 'user sessions');
      return items.length > 0 && items;
    }, 'an ACTIVE user session');
    assert.equal(sessions.length, 1);
    assertUserSession(sessions[0]);
    assert.equal(sessions[0].state, 'ACTIVE');
    assert.equal(sessions[0].user.id, jane.id);
    assert.equal(sessions[0].user.presence.online, true);
    assert.match(sessions[0].user_agent, /chatkitty-suite/);
  });

  it('a subscribed user is a participant with an ACTIVE chat session', async () => {
    sub = await rt.subscribe(client, room.name);
    const page = await h.ok(ck.ChannelsApi.listChannelParticipants(room.id), 'listChannelParticipants');
    const participants = h.offsetPage(page, 'users', 'participants');
    assert.equal(participants.length, 1);
    h.assertUser(participants[0], { id: jane.id, name: jane.name });
    assert.equal(participants[0].presence.online, true);
    const chats = await rt.until(async () => {
      const p = await h.ok(ck.ChatSessionsApi.listChatSessions(0, 25, undefined, 'ACTIVE'), 'listChatSessions');
      const items = h.offsetPage(p, 'sessions', 'chat sessions');
      return items.length > 0 && items;
    }, 'an ACTIVE chat session');
    const chat = chats[0];
    h.assertId(chat.id, 'ChatSessionResource.id');
    h.assertTime(chat.created_time, 'ChatSessionResource.created_time');
    assert.equal(chat.state, 'ACTIVE');
    assert.equal(chat.channel_id, room.id);
    assertUserSession(chat.session, 'ChatSessionResource.session');
    assert.equal(chat.session.user.id, jane.id);
  });

  it('sendChannelKeystrokes: the typing event reaches the connected client', async () => {
    const typing = rt.once(sub, 'publication');
    const typed = await h.ok(ck.ChannelsApi.sendChannelKeystrokes(room.id, { keys: 'see you', user: { username: bob.name } }),
      'sendChannelKeystrokes');
    assert.equal(typed.keys, 'see you');
    assert.equal(typed.username, bob.name);
    const publication = await typing;
    assert.equal(publication.data.type, 'keystrokes');
    assert.equal(publication.data.keys, 'see you');
    assert.equal(publication.data.user.name, bob.name);
    assert.equal(publication.data.channel_id, room.id);
    const history = h.cursorPage(await h.ok(ck.ChannelsApi.listChannelMessages(room.id), 'history'), 'history');
    assert.equal(history.length, 0, 'keystrokes are not messages');
    await h.expectApiError(ck.ChannelsApi.sendChannelKeystrokes(room.id, { keys: 'see you!', user: { username: bob.name } }), 429, 'too fast');
  });

  it('disconnecting ends the sessions and the participation', async () => {
    client.disconnect();
    client = null;
    const ended = await rt.until(async () => {
      const page = await h.ok(ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'ENDED'), 'ENDED user sessions');
      const items = h.offsetPage(page, 'sessions');
      return items.length > 0 && items;
    }, 'an ENDED user session');
    assertUserSession(ended[0]);
    assert.equal(ended[0].state, 'ENDED');
    const chats = await h.ok(ck.ChatSessionsApi.listChatSessions(0, 25, undefined, 'ENDED'), 'ENDED chat sessions');
    const items = h.offsetPage(chats, 'sessions');
    assert.equal(items.length, 1);
    assert.equal(items[0].state, 'ENDED');
    h.assertTime(items[0].end_time, 'ChatSessionResource.end_time');
    const active = await h.ok(ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'ACTIVE'), 'ACTIVE after');
    assert.equal(h.offsetPage(active, 'sessions').length, 0);
    const participants = await h.ok(ck.ChannelsApi.listChannelParticipants(room.id), 'participants after');
    assert.equal(h.offsetPage(participants, 'users').length, 0);
    const offline = await h.ok(ck.UsersApi.retrieveUser(jane.id), 'retrieveUser offline');
    assert.equal(offline.presence.online, false);
  });

  it('bad input: clear 4xx errors; another application sees nothing', async () => {
    await h.expectApiError(ck.UserSessionsApi.listUserSessions(0, 25, undefined, 'SLEEPING'), 400, 'bad state');
    await h.expectApiError(ck.ChatSessionsApi.listChatSessions(0, 25, undefined, 'SLEEPING'), 400, 'bad state');
    await h.expectApiError(ck.ChannelsApi.listChannelParticipants(987654321), 404, 'unknown channel');
    await h.expectApiError(hb.other.ChannelsApi.listChannelParticipants(room.id), 404, 'another app');
    await h.expectApiError(ck.ChannelsApi.sendChannelKeystrokes(room.id, { keys: 'x', user: { username: 'nobody-at-all' } }), 400, 'unknown user');
    const other = await h.ok(hb.other.UserSessionsApi.listUserSessions(), 'other app sessions');
    assert.equal(h.offsetPage(other, 'sessions').length, 0);
    const otherChats = await h.ok(hb.other.ChatSessionsApi.listChatSessions(), 'other app chat sessions');
    assert.equal(h.offsetPage(otherChats, 'sessions').length, 0);
  });
});
