// Holdfast chat demo: rooms are channels "room.<name>"; history (last 50) on join; sending
// uses client.publish (the server opens "room.*" to pages with client_publish). Everything a
// user typed is rendered with textContent, never as HTML.
//
// URL parameters preset the form and join at once: ?room=lobby&nick=ann&transport=sse&share=0
// Stable hooks for browser tests: #nick #room #transport #share #join #message #send #log
// (li[data-kind=message|system|gap|error], data-id, .nick, .text) #state[data-state]
// #active-transport #role, body[data-room], and window.chat.
(function () {
  'use strict';

  var ROOM_RE = /^[A-Za-z0-9_.~@-]{1,64}$/;
  var MAX_LINES = 500;
  var $ = function (id) { return document.getElementById(id); };
  var el = {
    joinForm: $('join-form'), nick: $('nick'), room: $('room'), transport: $('transport'),
    share: $('share'), sendForm: $('send-form'), message: $('message'), send: $('send'),
    log: $('log'), state: $('state'), active: $('active-transport'), role: $('role'),
    title: $('room-title'), rooms: $('rooms')
  };
  var params = new URLSearchParams(location.search);
  var client = new Holdfast.Client({ base: '/push' });
  var sub = null;
  var room = null;

  function stored(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }

  function initForm() {
    el.nick.value = params.get('nick') || stored('holdfast.nick') || 'guest-' + Math.floor(Math.random() * 9000 + 1000);
    el.room.value = params.get('room') || 'lobby';
    var t = params.get('transport');
    if (t && Holdfast.TRANSPORTS.concat('auto').indexOf(t) >= 0) el.transport.value = t;
    if (params.get('share') === '0') el.share.checked = false;
  }

  // --- the log -------------------------------------------------------------------------

  function timeText(ms) {
    var d = ms ? new Date(ms) : new Date();
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function span(cls, text) {
    var s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function addLine(kind, parts, attrs) {
    var li = document.createElement('li');
    li.setAttribute('data-kind', kind);
    Object.keys(attrs || {}).forEach(function (k) { li.setAttribute(k, attrs[k]); });
    parts.forEach(function (p) { li.appendChild(p); });
    var atBottom = el.log.scrollTop + el.log.clientHeight >= el.log.scrollHeight - 30;
    el.log.appendChild(li);
    while (el.log.children.length > MAX_LINES) el.log.removeChild(el.log.firstChild);
    if (atBottom) el.log.scrollTop = el.log.scrollHeight;
    return li;
  }

  function system(kind, text) {
    return addLine(kind, [span('time', timeText()), span('text', text)]);
  }

  function showMessage(msg) {
    var d = msg.data;
    var nick = d && typeof d === 'object' && typeof d.nick === 'string' ? d.nick : '?';
    var text = d && typeof d === 'object' && typeof d.text === 'string' ? d.text
      : typeof d === 'string' ? d : JSON.stringify(d);
    addLine('message', [span('time', timeText(msg.time)), span('nick', nick), span('text', text)],
      { 'data-id': msg.id, 'data-channel': msg.channel, 'data-event': msg.event });
  }

  function showGap(gap) {
    var why = { evicted: 'older messages were evicted', epoch: 'the room history was reset', unknown: 'the server does not know our position' }[gap.reason] || gap.reason;
    addLine('gap', [span('time', timeText()), span('text', 'Some messages may be missing: ' + why + '.')],
      { 'data-reason': gap.reason });
  }

  // --- connection status ---------------------------------------------------------------

  function showState(state, info) {
    el.state.textContent = state;
    el.state.setAttribute('data-state', state);
    el.active.textContent = (info && info.transport) || '–';
    if (info && info.role) el.role.textContent = info.role;
    var usable = state !== 'closed';
    el.message.disabled = !usable;
    el.send.disabled = !usable;
  }

  // --- joining and sending ---------------------------------------------------------------

  function join() {
    var name = el.room.value.trim();
    if (!ROOM_RE.test(name)) { system('error', 'Room names use letters, digits and _ . ~ @ - only.'); return; }
    store('holdfast.nick', el.nick.value.trim());
    if (sub) sub.close();
    room = name;
    el.log.textContent = '';
    el.title.textContent = '#' + room;
    document.body.setAttribute('data-room', room);
    Array.prototype.forEach.call(el.rooms.querySelectorAll('button'), function (b) {
      b.setAttribute('aria-current', b.getAttribute('data-room') === room ? 'true' : 'false');
    });
    updateUrl();
    system('system', 'Joining #' + room + ' (' + el.transport.value + ')…');
    sub = client.subscribe('room.' + room, {
      transport: el.transport.value,
      last: 50,
      shareTabs: el.share.checked,
      onMessage: showMessage,
      onGap: showGap,
      onState: showState,
      onRole: function (role) { el.role.textContent = role; },
      onError: function (err) { if (err.fatal) system('error', 'Error: ' + err.message); },
      onDeleted: function () { system('system', 'The room history was deleted.'); }
    });
  }

  function updateUrl() {
    var q = new URLSearchParams(location.search);
    q.set('room', room);
    q.set('transport', el.transport.value);
    if (el.share.checked) q.delete('share'); else q.set('share', '0');
    q.delete('nick');
    history.replaceState(null, '', location.pathname + '?' + q.toString());
  }

  function send() {
    var text = el.message.value;
    var nick = el.nick.value.trim() || 'anonymous';
    if (!text.trim() || !room) return;
    el.send.disabled = true;
    client.publish('room.' + room, { nick: nick, text: text }).then(function () {
      el.message.value = '';
    }, function (err) {
      system('error', 'Not sent: ' + err.message);
    }).then(function () {
      el.send.disabled = sub && sub.state === 'closed';
      el.message.focus();
    });
  }

  el.joinForm.addEventListener('submit', function (ev) { ev.preventDefault(); join(); });
  el.sendForm.addEventListener('submit', function (ev) { ev.preventDefault(); send(); });
  el.transport.addEventListener('change', join);
  el.share.addEventListener('change', join);
  el.rooms.addEventListener('click', function (ev) {
    var r = ev.target.closest && ev.target.closest('button[data-room]');
    if (r) { el.room.value = r.getAttribute('data-room'); join(); }
  });

  window.chat = {
    client: client,
    get subscription() { return sub; },
    get room() { return room; },
    join: join,
    send: send
  };

  initForm();
  join();
})();
