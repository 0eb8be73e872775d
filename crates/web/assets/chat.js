'use strict';
// Live chat: new lines arrive as server-sent events and are appended to the conversation.
// Without JavaScript the page refreshes itself (see the template's <noscript>).
(function () {
  var list = document.getElementById('chat-lines');
  if (!list || !window.EventSource) return;
  var source = new EventSource(list.dataset.stream + (list.dataset.last ? '?after=' + list.dataset.last : ''));
  source.addEventListener('lines', function (e) {
    var empty = document.getElementById('chat-empty');
    if (empty) empty.remove();
    // The server renders and escapes each line.
    list.insertAdjacentHTML('beforeend', e.data);
  });
})();
