// Shows the sign-in error when the server sent us back with ?failed=1. A file of its own, not an inline script,
// so that the page works under Content-Security-Policy script-src 'self'.
"use strict";

(() => {
  if (new URLSearchParams(location.search).get("failed") === "1") {
    document.getElementById("login-error").hidden = false;
  }
})();
