/* Feeds inbox: a "select all" box for bulk acknowledgement. The page works without it. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) { return; }
    var form = box.closest("form");
    if (!form) { return; }
    form.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (item) {
      item.checked = box.checked;
    });
  });
})();
