// OrderDesk admin behaviour that htmx does not cover. No inline scripts anywhere: the
// Content-Security-Policy forbids them.
(function () {
  "use strict";
  // After a form comes back with errors, put the cursor in the first field at fault.
  function focusInvalid(root) {
    var bad = (root || document).querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusInvalid(document); });
  document.addEventListener("htmx:afterSettle", function (e) { focusInvalid(e.target); });
})();
