// The composer's "Copy the text" button: shown only where it works (with JavaScript).
// Townsquare does not post replies yet, so the person copies the reply to the platform.
(function () {
  "use strict";

  function status(button, text) {
    var region = button.parentElement.querySelector(".copy-status");
    if (region) {
      region.textContent = text;
    }
  }

  function copy(button) {
    var field = document.querySelector(button.dataset.copyTarget);
    if (!field) {
      return;
    }
    var done = function () { status(button, "Copied."); };
    var fallback = function () {
      // Without the clipboard API (a plain http address): select the text for Ctrl+C.
      field.focus();
      field.select();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      status(button, copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  function show() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (button) {
      copy(button);
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
})();
