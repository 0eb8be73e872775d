'use strict';
// Live chat: new lines arrive as server-sent events and are appended to the conversation.
// Without JavaScript the page refreshes itself (see the template's <noscript>).
(function () {
  var list = document.getElementById('chat-lines');
  if (!list || !window.EventSource) return;
  var source = new EventSource(list.dataset.stream);
  source.addEventListener('lines', function (e) {
    var empty = document.getElementById('chat-empty');
    if (empty) empty.remove();
    // The server renders and escapes each line; a reconnection may resend some.
    var holder = document.createElement('template');
    holder.innerHTML = e.data;
    Array.prototype.forEach.call(holder.content.querySelectorAll('li'), function (li) {
      if (!document.getElementById(li.id)) list.appendChild(li);
    });
  });
})();
