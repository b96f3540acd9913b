/* certhub intel pages: small enhancements; every page works without JavaScript. */
(function () {
  "use strict";

  // The tag finder: choosing a suggestion adds it, on its own line, to the form's tag list.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.tag-pick") : null;
    if (!button) { return; }
    event.preventDefault();
    var form = button.closest("form") || document;
    var list = form.querySelector("textarea[data-tag-list]");
    if (!list) { return; }
    var tag = button.getAttribute("data-tag");
    var lines = list.value.split(/\r?\n/).map(function (line) { return line.trim(); })
      .filter(function (line) { return line.length > 0; });
    if (lines.indexOf(tag) === -1) { lines.push(tag); }
    list.value = lines.join("\n");
    list.focus();
  });

  // The search box of the tag finder must not submit the report form with Enter.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target && event.target.id === "tag-query") {
      event.preventDefault();
    }
  });

  // Ask before deleting.
  document.addEventListener("submit", function (event) {
    var button = event.submitter || event.target.querySelector("[data-confirm]");
    var question = button && button.getAttribute ? button.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
