/* certhub: small progressive enhancements. Every page works without JavaScript. */
(function () {
  "use strict";

  // The language switch sends the visitor back to the page they are on; htmx may have
  // changed that page's query string (live directory filters) after it was rendered.
  function rememberCurrentPage() {
    var here = window.location.pathname + window.location.search;
    document.querySelectorAll("input[data-current-page]").forEach(function (input) {
      input.value = here;
    });
  }

  document.addEventListener("htmx:pushedIntoHistory", rememberCurrentPage);
  document.addEventListener("htmx:replacedInHistory", rememberCurrentPage);
  window.addEventListener("popstate", rememberCurrentPage);

  // Move keyboard and screen-reader focus to fresh lookup results.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "lookup-results") {
      var heading = target.querySelector("h2, .errors");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    }
  });
})();
