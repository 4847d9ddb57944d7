'use strict';
// Channel invites (ChannelsApi.sendChannelInvite / listChannelInvites).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

describe('invites', { timeout: 60_000 }, () => {
  let hb;
  let ch;
  let owner;
  let jane;
  let bob;
  let room;
  before(async () => {
    hb = await h.startHubbub();
    ch = hb.ck.ChannelsApi;
    const mk = (n) => h.ok(hb.ck.UsersApi.createUser({ name: h.uniq(n), display_name: n, is_guest: false }), `createUser ${n}`);
    owner = await mk('owner');
    jane = await mk('jane');
    bob = await mk('bob');
    room = await h.ok(ch.createChannel({ type: 'PRIVATE', name: h.uniq('club'), creator: { username: owner.name } }), 'createChannel');
  });
  after(async () => { if (hb) await hb.stop(); });

  it('sendChannelInvite: a ChannelInviteResource; inviting again returns the same invite', async () => {
    const invite = await h.ok(ch.sendChannelInvite(room.id, { user: { username: jane.name } }), 'sendChannelInvite');
    h.assertTime(invite.created_time, 'ChannelInviteResource.created_time');
    h.assertUser(invite.user, { id: jane.id, name: jane.name });
    assert.equal(invite.channel_id, room.id);
    const again = await h.ok(ch.sendChannelInvite(room.id, { user: { id: jane.id } }), 'invite again');
    assert.equal(again.created_time, invite.created_time);
    await h.ok(ch.sendChannelInvite(room.id, { user: { username: bob.name } }), 'invite bob');
  });

  it('listChannelInvites: pending invites, paged and sorted; joining fulfils an invite', async () => {
    const page = await h.ok(ch.listChannelInvites(room.id), 'listChannelInvites');
    const invites = h.offsetPage(page, 'invites', 'listChannelInvites');
    assert.deepEqual(invites.map((i) => i.user.name), [jane.name, bob.name], 'oldest first');
    assert.equal(page.page.total_elements, 2);
    invites.forEach((i, n) => h.assertTime(i.created_time, `invite ${n}`));
    const sorted = await h.ok(ch.listChannelInvites(room.id, 0, 1, ['name,desc']), 'sorted');
    assert.equal(h.offsetPage(sorted, 'invites')[0].user.name, jane.name, 'jane > bob');
    assert.equal(sorted.page.total_pages, 2);
    await h.ok(ch.addChannelMember(room.id, { username: jane.name }), 'jane joins');
    const joined = h.offsetPage(await h.ok(ch.listChannelInvites(room.id), 'after join'), 'invites');
    assert.deepEqual(joined.map((i) => i.user.name), [bob.name]);
  });

  it('bad input: members 409, unknown users and channels 404, direct channels 400, other apps 404', async () => {
    await h.expectApiError(ch.sendChannelInvite(room.id, { user: { username: jane.name } }), 409, 'a member');
    await h.expectApiError(ch.sendChannelInvite(room.id, { user: { username: 'nobody-at-all' } }), 404, 'unknown user');
    await h.expectApiError(ch.sendChannelInvite(room.id, {}), 400, 'no user');
    await h.expectApiError(ch.sendChannelInvite(987654321, { user: { id: bob.id } }), 404, 'unknown channel');
    const direct = await h.ok(ch.createChannel({ type: 'DIRECT', members: [{ username: jane.name }, { username: bob.name }] }), 'direct');
    await h.expectApiError(ch.sendChannelInvite(direct.id, { user: { id: owner.id } }), 400, 'direct channel');
    await h.expectApiError(hb.other.ChannelsApi.listChannelInvites(room.id), 404, 'another app lists');
    await h.expectApiError(hb.other.ChannelsApi.sendChannelInvite(room.id, { user: { id: bob.id } }), 404, 'another app invites');
    const still = h.offsetPage(await h.ok(ch.listChannelInvites(room.id), 'unchanged'), 'invites');
    assert.equal(still.length, 1, 'nothing changed');
  });
});
