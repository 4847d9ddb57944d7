'use strict';
// Bad input and tenant isolation, through the ChatKitty wrapper.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

describe('errors + tenant isolation', { timeout: 60_000 }, () => {
  let hb;
  before(async () => { hb = await h.startHubbub(); });
  after(async () => { if (hb) await hb.stop(); });

  it('createUser with an empty name -> 400 ApiError, nothing created', async () => {
    const before = await h.ok(hb.ck.UsersApi.listUsers(0, 100), 'listUsers before');
    await h.expectApiError(hb.ck.UsersApi.createUser({ name: '', display_name: 'Nobody', is_guest: false }), 400, 'createUser name=""');
    const after = await h.ok(hb.ck.UsersApi.listUsers(0, 100), 'listUsers after');
    assert.equal(after.page.total_elements, before.page.total_elements, 'bad input changes nothing');
  });

  it('createUser with a duplicate name -> 409/400 ApiError', async () => {
    const name = h.uniq('dup');
    const u = await h.ok(hb.ck.UsersApi.createUser({ name, display_name: 'First', is_guest: false }), 'createUser');
    await h.expectApiError(hb.ck.UsersApi.createUser({ name, display_name: 'Second', is_guest: false }), [409, 400], 'duplicate createUser');
    const got = await h.ok(hb.ck.UsersApi.retrieveUser(u.id), 'original intact');
    assert.equal(got.display_name, 'First');
    const list = h.offsetPage(await h.ok(hb.ck.UsersApi.listUsers(undefined, undefined, undefined, name), 'listUsers name'), 'users', 'dup list');
    assert.equal(list.length, 1);
  });

  it('unknown ids -> 404 ApiError', async () => {
    await h.expectApiError(hb.ck.ChannelsApi.retrieveChannel(987654321), 404, 'retrieveChannel unknown');
    await h.expectApiError(hb.ck.UsersApi.retrieveUser(987654321), 404, 'retrieveUser unknown');
    await h.expectApiError(hb.ck.MessagesApi.retrieveMessage(987654321), 404, 'retrieveMessage unknown');
    await h.expectApiError(hb.ck.ChannelsApi.updateChannel(987654321, { display_name: 'x' }), 404, 'updateChannel unknown');
    await h.expectApiError(hb.ck.ChannelsApi.deleteChannel(987654321), 404, 'deleteChannel unknown');
  });

  it('other malformed requests -> 400 ApiError', async () => {
    await h.expectApiError(hb.ck.ChannelsApi.createChannel({ type: 'NOT_A_TYPE', name: h.uniq('bad') }), 400, 'createChannel bad type');
    await h.expectApiError(hb.ck.ChannelsApi.createChannel({ type: 'DIRECT', members: [{ username: h.uniq('ghost') }, { username: h.uniq('ghost') }] }),
      [400, 404], 'DIRECT with unknown members');
    const c = await h.ok(hb.ck.ChannelsApi.createChannel({ type: 'PUBLIC', name: h.uniq('badmsg') }), 'createChannel');
    await h.expectApiError(hb.ck.ChannelsApi.sendChannelMessage(c.id, { type: 'TEXT' }), 400, 'TEXT without body');
    await h.expectApiError(hb.ck.ChannelsApi.sendChannelMessage(c.id, { type: 'TEXT', body: 'x', user: { username: h.uniq('ghost') } }),
      [400, 404], 'send as unknown user');
    const list = h.cursorPage(await h.ok(hb.ck.ChannelsApi.listChannelMessages(c.id), 'list after bad sends'), 'after bad sends');
    assert.deepEqual(list, [], 'failed sends store nothing');
  });

  it("another application's client gets 404 for this application's ids and changes nothing", async () => {
    const { ck, other } = hb;
    const u = await h.ok(ck.UsersApi.createUser({ name: h.uniq('owned'), display_name: 'Owned', is_guest: false, properties: { k: 'v' } }), 'createUser');
    const c = await h.ok(ck.ChannelsApi.createChannel({
      type: 'PUBLIC', name: h.uniq('owned'), display_name: 'Owned', members: [{ username: u.name }], properties: { k: 'v' },
    }), 'createChannel');
    const m = await h.ok(ck.ChannelsApi.sendChannelMessage(c.id, { type: 'TEXT', body: 'mine', user: { username: u.name } }), 'send');
    await h.ok(ck.UsersApi.setUserSecret(u.id, 'tok', { secret: `isolated-${h.RUN}` }), 'setUserSecret');

    const cases = [
      ['retrieveUser', () => other.UsersApi.retrieveUser(u.id)],
      ['updateUser', () => other.UsersApi.updateUser(u.id, { display_name: 'Hijacked' })],
      ['deleteUser', () => other.UsersApi.deleteUser(u.id)],
      ['retrieveUserSecret', () => other.UsersApi.retrieveUserSecret(u.id, 'tok')],
      ['setUserSecret', () => other.UsersApi.setUserSecret(u.id, 'tok', { secret: 'overwritten' })],
      ['listUserChannels', () => other.UsersApi.listUserChannels(u.id)],
      ['retrieveChannel', () => other.ChannelsApi.retrieveChannel(c.id)],
      ['updateChannel', () => other.ChannelsApi.updateChannel(c.id, { display_name: 'Hijacked' })],
      ['listChannelMessages', () => other.ChannelsApi.listChannelMessages(c.id)],
      ['listChannelMembers', () => other.ChannelsApi.listChannelMembers(c.id)],
      ['sendChannelMessage', () => other.ChannelsApi.sendChannelMessage(c.id, { type: 'TEXT', body: 'intruder' })],
      ['addChannelMember', () => other.ChannelsApi.addChannelMember(c.id, { id: u.id })],
      ['removeChannelMember', () => other.ChannelsApi.removeChannelMember(c.id, u.id)],
      ['deleteChannel', () => other.ChannelsApi.deleteChannel(c.id)],
      ['retrieveMessage', () => other.MessagesApi.retrieveMessage(m.id)],
      ['updateMessage', () => other.MessagesApi.updateMessage(m.id, { body: 'Hijacked' })],
      ['deleteMessage', () => other.MessagesApi.deleteMessage(m.id)],
    ];
    for (const [what, call] of cases) {
      await h.expectApiError(call(), 404, `other app: ${what}`);
    }
    const e = await h.fails(other.UsersApi.checkUserExists(u.name), 'other app: checkUserExists');
    assert.equal(e.response.status, 404, h.describeAxiosError(e));

    // Listing in the other application shows none of it.
    const ou = h.offsetPage(await h.ok(other.UsersApi.listUsers(0, 100), 'other listUsers'), 'users', 'other users');
    assert.ok(!ou.some((x) => x.id === u.id || x.name === u.name));
    const oc = h.offsetPage(await h.ok(other.ChannelsApi.listChannels(0, 100), 'other listChannels'), 'channels', 'other channels');
    assert.ok(!oc.some((x) => x.id === c.id));
    const om = h.cursorPage(await h.ok(other.MessagesApi.listMessages(100), 'other listMessages'), 'other messages');
    assert.ok(!om.some((x) => x.id === m.id));

    // The other application may reuse the same user name: names are per application.
    const twin = await h.ok(other.UsersApi.createUser({ name: u.name, display_name: 'Twin', is_guest: false }), 'other createUser same name');
    assert.notEqual(twin.id, u.id);

    // deleteMessages in the other application does not touch ours.
    await h.ok(other.MessagesApi.deleteMessages(), 'other deleteMessages');

    // Nothing changed.
    const u2 = await h.ok(ck.UsersApi.retrieveUser(u.id), 'retrieveUser after');
    h.assertUser(u2, { id: u.id, name: u.name, display_name: 'Owned', properties: { k: 'v' } });
    assert.equal((await h.ok(ck.UsersApi.retrieveUserSecret(u.id, 'tok'), 'secret after')).secret, `isolated-${h.RUN}`);
    const c2 = await h.ok(ck.ChannelsApi.retrieveChannel(c.id), 'retrieveChannel after');
    h.assertChannel(c2, { id: c.id, display_name: 'Owned', properties: { k: 'v' } });
    const m2 = await h.ok(ck.MessagesApi.retrieveMessage(m.id), 'retrieveMessage after');
    h.assertMessage(m2, { id: m.id, body: 'mine' });
    const hist = h.cursorPage(await h.ok(ck.ChannelsApi.listChannelMessages(c.id), 'history after'), 'history after');
    assert.deepEqual(hist.map((x) => x.id), [m.id], 'no intruder message');
    const mem = h.offsetPage(await h.ok(ck.ChannelsApi.listChannelMembers(c.id), 'members after'), 'users', 'members after');
    assert.ok(mem.some((x) => x.id === u.id), 'membership intact');
  });
});
