/* certhub public report form: solve the anti-robot challenge in the background.

   The server's challenge (certhub.incidents.challenge) is passed by a proof of work: a string
   `solution` such that SHA-256(token + ":" + solution) starts with `bits` zero bits. This script
   searches for it with the browser's WebCrypto as soon as the page loads, puts it in the hidden
   field, and hides the arithmetic question that visitors without JavaScript answer instead.
   A form sent before the search ends waits for it. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-challenge-token]");
  if (!form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) return;
  var token = form.getAttribute("data-challenge-token");
  var bits = parseInt(form.getAttribute("data-challenge-bits"), 10) || 0;
  var field = form.querySelector("input[name=challenge_solution]");
  var question = document.getElementById("challenge-question");
  var status = document.getElementById("challenge-status");
  if (!field) return;
  var encoder = new TextEncoder();
  var solved = null;
  var submitting = false;
  var BATCH = 2048;

  function zeroBits(buffer) {
    var bytes = new Uint8Array(buffer);
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { count += 1; b <<= 1; }
      return count;
    }
    return count;
  }

  function batch(start) {
    var digests = [];
    for (var i = start; i < start + BATCH; i++) {
      digests.push(window.crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + i)));
    }
    return Promise.all(digests).then(function (results) {
      for (var j = 0; j < results.length; j++) {
        if (zeroBits(results[j]) >= bits) return String(start + j);
      }
      return null;
    });
  }

  function search(start) {
    return batch(start).then(function (found) {
      return found !== null ? found : search(start + BATCH);
    });
  }

  function done(solution) {
    solved = solution;
    field.value = solution;
    if (question) {
      question.hidden = true;
      var input = question.querySelector("input");
      if (input) input.required = false;
    }
    if (status) status.hidden = false;
    if (submitting) form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (solved === null) {
      var answer = form.querySelector("input[name=challenge_answer]");
      if (answer && answer.value.trim()) return; // answered by hand: send now
      event.preventDefault();
      submitting = true;
    }
  });

  search(0).then(done, function () { /* no WebCrypto: the question remains */ });
})();
