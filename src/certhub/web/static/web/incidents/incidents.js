/* certhub incidents: keyboard shortcuts. Every action is also a plain link, button or form;
   the shortcuts only move focus or follow a link, and never fire while the user is typing.

   Markup:  <a href="#comment" data-shortcut="c" aria-keyshortcuts="c">…</a>
            an element with data-shortcut: pressing the key focuses it when it is a form field
            (or the first field inside it), opens it when it is a <details>, otherwise clicks it.
            <dialog id="shortcut-help">: "?" opens it, Escape closes it (the browser does). */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function focusable(element) {
    if (/^(input|textarea|select)$/i.test(element.tagName)) return element;
    return element.querySelector("textarea, input:not([type=hidden]), select");
  }

  function activate(element) {
    var details = element.closest("details");
    if (details && !details.open) details.open = true;
    if (element.tagName.toLowerCase() === "details") {
      element.open = true;
      var inside = focusable(element);
      (inside || element.querySelector("summary") || element).focus();
      return;
    }
    var field = focusable(element);
    if (field) {
      field.scrollIntoView({block: "center"});
      field.focus();
      return;
    }
    element.click();
  }

  function helpDialog() {
    return document.getElementById("shortcut-help");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var dialog = helpDialog();
    if (dialog && dialog.open) return; // the dialog has its own keys (Escape, Tab)
    if (event.key === "?") {
      if (dialog && dialog.showModal) {
        event.preventDefault();
        dialog.showModal();
      }
      return;
    }
    if (event.key.length !== 1) return;
    var key = event.key.toLowerCase();
    var elements = document.querySelectorAll("[data-shortcut]");
    for (var i = 0; i < elements.length; i++) {
      if (elements[i].getAttribute("data-shortcut") === key) {
        event.preventDefault();
        activate(elements[i]);
        return;
      }
    }
  });

  // Buttons that open or close the help dialog (no inline handlers under the CSP).
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && dialog.showModal) {
        event.preventDefault();
        dialog.showModal();
      }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) {
        event.preventDefault();
        open.close();
      }
    }
  });

  // After htmx swaps a fragment in (a suggestion, a new timeline entry), move focus to the
  // element it marks with data-focus-after-swap so keyboard and screen-reader users follow.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    var next = target.querySelector("[data-focus-after-swap]");
    if (next) {
      if (!next.hasAttribute("tabindex") && !focusable(next)) next.setAttribute("tabindex", "-1");
      (focusable(next) || next).focus();
    }
  });
})();
