'use strict';
// hubbub's Tencent dialect driven with UserSigs from Tencent's own `tls-sig-api-v2`
// (npm 1.0.2), generated at run time; plus the reference's worked example decoded.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const TLSSigAPIv2 = require('tls-sig-api-v2');
const { startHubbub, decodeUserSig, call, ok, fail } = require('./harness');

const REFERENCE = { sdkappid: 1400000000, key: 'hubbub-test-key', admins: ['administrator'] };
// seed-surfaces 4.4: `genUserSig('administrator', 86400)` with TLS.time pinned to 1700000000.
const REFERENCE_SIG = 'eJxVysEKgkAYBOB3*a*FriYqC93sYolB4qGb8K8xxNq2u4QWvXtgdmhu8828qDmcgoeyJCkOBK3nDlaDR4*ZO9YY4Lzt-M0uB8fXzhgwySgRS76Lh1Yko*xf1WhgFck8TX7kcCFJz0wf7X0qOSl3VdNrLlqo8Vxw2qKON6uprsI9RIgh39L7A74hM*Y_';
const PINNED = 1700000000;

/** A UserSig from the official package, with the clock pinned to `atSeconds` if given. */
function userSig(app, identifier, expire, atSeconds) {
  const api = new TLSSigAPIv2.Api(app.sdkappid, app.key);
  if (atSeconds === undefined) return api.genUserSig(identifier, expire);
  const realNow = Date.now;
  Date.now = () => atSeconds * 1000;
  try {
    return api.genUserSig(identifier, expire);
  } finally {
    Date.now = realNow;
  }
}

let h;
before(async () => { h = await startHubbub(REFERENCE); });
after(async () => { if (h) await h.stop(); });

test('the worked example decodes to the documented fields and HMAC', () => {
  const doc = decodeUserSig(REFERENCE_SIG);
  assert.deepEqual(doc, {
    'TLS.ver': '2.0',
    'TLS.identifier': 'administrator',
    'TLS.sdkappid': 1400000000,
    'TLS.time': PINNED,
    'TLS.expire': 86400,
    'TLS.sig': 'z7mPrqyJd4JEMTfmdDViexZDd6ViO23+yOM/Ki0/in8=',
  });
  const content = 'TLS.identifier:administrator\nTLS.sdkappid:1400000000\n' +
    `TLS.time:${PINNED}\nTLS.expire:86400\n`;
  const hmac = crypto.createHmac('sha256', 'hubbub-test-key').update(content).digest('base64');
  assert.equal(hmac, doc['TLS.sig']);
  // The installed package, pinned to the same time, signs the same document.
  assert.deepEqual(decodeUserSig(userSig(REFERENCE, 'administrator', 86400, PINNED)), doc);
});

for (const which of ['generated', 'reference']) {
  test(`a live room's life with npm-made sigs (${which} credential)`, async () => {
    const app = h[which];
    const admin = app.admins[0];
    const sig = userSig(app, admin, 3600);
    const as = { usersig: sig };
    const room = `npm-${which}`;

    for (const id of ['anchor', 'viewer', 'helper-bot']) {
      ok(await call(h.url, app, 'im_open_login_svc/account_import', { UserID: id, Nick: `Nick ${id}` }, as),
        `account_import ${id}`);
    }
    const multi = await call(h.url, app, 'im_open_login_svc/multiaccount_import',
      { Accounts: ['fan1', 'fan2'] }, as);
    ok(multi, 'multiaccount_import');
    assert.deepEqual(multi.FailAccounts, []);

    ok(await call(h.url, app, 'live_engine_http_srv/create_room', {
      RoomInfo: { RoomId: room, RoomType: 'Live', RoomName: 'Live from npm', Owner_Account: 'anchor' },
    }, as), 'create_room');
    fail(await call(h.url, app, 'live_engine_http_srv/create_room', {
      RoomInfo: { RoomId: room, RoomType: 'Live' },
    }, as), 100003, 'create_room again');

    ok(await call(h.url, app, 'live_engine_http_srv/add_robot',
      { RoomId: room, RobotList_Account: ['helper-bot'] }, as), 'add_robot');
    const robots = ok(await call(h.url, app, 'live_engine_http_srv/get_robot', { RoomId: room }, as));
    assert.deepEqual(robots, { RobotList_Account: ['helper-bot'] });

    const first = ok(await call(h.url, app, 'live_engine_http_srv/send_text_msg',
      { RoomId: room, Sender_Account: 'viewer', TextContent: 'hello from npm' }, as), 'send_text_msg');
    const second = ok(await call(h.url, app, 'live_engine_http_srv/send_text_msg',
      { RoomId: room, Sender_Account: 'helper-bot', TextContent: 'beep' }, as), 'send_text_msg');
    assert.equal(first.MsgSeq, 1);
    assert.equal(second.MsgSeq, 2);
    assert.ok(Math.abs(first.MsgTime - Date.now() / 1000) < 60, `MsgTime ${first.MsgTime} is now`);

    const info = ok(await call(h.url, app, 'live_engine_http_srv/get_room_info', { RoomId: room }, as));
    assert.equal(info.RoomInfo.RoomId, room);
    assert.equal(info.RoomInfo.RoomName, 'Live from npm');
    assert.equal(info.RoomInfo.RoomType, 'Live');
    assert.equal(info.RoomInfo.Owner_Account, 'anchor');
    assert.equal(info.RoomInfo.IsMessageDisabled, false);
  });

  test(`an expired npm-made sig is 70001, another key 70009 (${which} credential)`, async () => {
    const app = h[which];
    const admin = app.admins[0];
    const now = Math.floor(Date.now() / 1000);
    // Issued two hours ago for one hour.
    const expired = userSig(app, admin, 3600, now - 7200);
    fail(await call(h.url, app, 'live_engine_http_srv/get_room_list', { Next: '', Count: 20 },
      { usersig: expired }), 70001, 'expired');
    const wrongKey = userSig({ ...app, key: `${app.key}-not` }, admin, 3600);
    fail(await call(h.url, app, 'live_engine_http_srv/get_room_list', {},
      { usersig: wrongKey }), 70009, 'wrong key');
    const forAdmin = userSig(app, 'admin', 3600);
    fail(await call(h.url, app, 'live_engine_http_srv/get_room_list', {},
      { usersig: forAdmin, identifier: admin }), 70013, 'sig of another identifier');
    // The same call with a fresh sig passes.
    const list = ok(await call(h.url, app, 'live_engine_http_srv/get_room_list', {},
      { usersig: userSig(app, admin, 60) }));
    assert.equal(list.Next, '');
    assert.ok(Array.isArray(list.RoomList));
  });
}

test("one application's sig does not open another's", async () => {
  const sig = userSig(h.reference, h.reference.admins[0], 3600);
  // The reference's sig presented with the generated app's SDKAppID: 70014.
  fail(await call(h.url, h.generated, 'live_engine_http_srv/get_room_list', {},
    { usersig: sig, identifier: h.reference.admins[0] }), 70014);
});
