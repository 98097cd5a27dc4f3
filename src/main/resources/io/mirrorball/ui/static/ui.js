// mirrorball's web page: live filtering of the repository list and copy buttons. Everything works without it.
(function () {
  'use strict';

  function filterRepositories() {
    var input = document.getElementById('q');
    var table = document.getElementById('repositories');
    if (!input || !table) {
      return;
    }
    var empty = document.getElementById('no-repositories');
    function apply() {
      var needle = input.value.trim().toLowerCase();
      var shown = 0;
      table.querySelectorAll('tbody tr').forEach(function (row) {
        var match = needle === '' || row.dataset.repository.toLowerCase().indexOf(needle) >= 0;
        row.hidden = !match;
        if (match) {
          shown++;
        }
      });
      if (empty) {
        empty.hidden = shown > 0;
      }
    }
    input.addEventListener('input', apply);
  }

  function copyButtons() {
    document.querySelectorAll('button.copy').forEach(function (button) {
      var code = button.parentElement.querySelector('code.pull');
      if (!code) {
        return;
      }
      button.hidden = false;
      button.addEventListener('click', function () {
        var text = code.textContent;
        var done = function () {
          button.textContent = 'Copied';
          setTimeout(function () { button.textContent = 'Copy'; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else {
          var range = document.createRange();
          range.selectNodeContents(code);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          if (document.execCommand('copy')) {
            done();
          }
        }
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    filterRepositories();
    copyButtons();
  });
}());
