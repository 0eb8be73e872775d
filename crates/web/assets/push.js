// Subscribes this browser to web push (the service worker shows what arrives).
(function () {
  var section = document.getElementById('push-section');
  if (!section || !('serviceWorker' in navigator) || !('PushManager' in window)) return;
  var on = document.getElementById('push-on');
  var off = document.getElementById('push-off');
  var state = document.getElementById('push-state');
  function key(base64url) {
    var padded = (base64url + '===='.slice(base64url.length % 4)).replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': section.dataset.csrf },
      body: JSON.stringify(body)
    });
  }
  function show(subscribed) {
    on.hidden = subscribed; off.hidden = !subscribed;
    state.textContent = subscribed ? state.dataset.on : state.dataset.off;
  }
  navigator.serviceWorker.register('/sw.js').then(function (reg) {
    return reg.pushManager.getSubscription().then(function (sub) {
      show(!!sub);
      on.addEventListener('click', function () {
        reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(section.dataset.key) })
          .then(function (s) { return post('/compte/notifications/push', s.toJSON()); })
          .then(function () { show(true); })
          .catch(function () { state.textContent = state.dataset.denied; });
      });
      off.addEventListener('click', function () {
        reg.pushManager.getSubscription().then(function (s) {
          if (!s) return show(false);
          return post('/compte/notifications/push/retirer', { endpoint: s.endpoint })
            .then(function () { return s.unsubscribe(); }).then(function () { show(false); });
        });
      });
    });
  });
})();
