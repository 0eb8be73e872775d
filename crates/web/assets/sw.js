// Préau's service worker: shows pushed notifications and opens the page they point to.
self.addEventListener('push', function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || 'Préau', {
    body: data.body || '', data: { url: data.url || '/' }, lang: 'fr', icon: '/static/icon.svg'
  }));
});
self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || '/';
  event.waitUntil(clients.openWindow(url));
});
