// Reads a mot aloud for pupils who cannot read yet, in the mot's own language.
(function () {
  if (!('speechSynthesis' in window)) return;
  document.querySelectorAll('button.read-aloud').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var text = button.dataset.read.split(' ').map(function (id) {
        var node = document.getElementById(id);
        return node ? node.textContent : '';
      }).join('. ');
      window.speechSynthesis.cancel();
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = button.dataset.lang || 'fr';
      utterance.rate = 0.9;
      window.speechSynthesis.speak(utterance);
    });
  });
})();
