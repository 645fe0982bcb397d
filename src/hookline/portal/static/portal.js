/* The customer portal's page script: opens the portal from the link in the URL fragment, keeps
   the session in the fragment (never sent to a server, never in a Referer) so a reload returns
   to the same page, and applies the vendor's theme. No cookie and no storage: inside a
   cross-site iframe current browsers refuse both to third parties. */
(function () {
  "use strict";

  var SESSION = "X-Portal-Session";

  function portal() { return document.getElementById("portal"); }

  function safePath(path) {
    return /^\/portal\/[A-Za-z0-9_\-\/.?=&%]*$/.test(path || "") ? path : "/portal/endpoints";
  }

  function open() {
    var hash = window.location.hash.replace(/^#/, "");
    var params = new URLSearchParams(hash.indexOf("=") >= 0 ? hash : "");
    var session = params.get("s");
    var token = hash.indexOf("hlp_") === 0 ? hash : params.get("key") || params.get("token");
    /* The link's token leaves the address bar at once: it is not kept in the history. */
    window.history.replaceState(null, "", window.location.pathname);
    var headers = {};
    if (session) {
      headers[SESSION] = session;
      htmx.ajax("GET", safePath(params.get("p")), { target: "#portal", swap: "outerHTML", select: "#portal", headers: headers });
    } else if (token) {
      headers["Authorization"] = "Bearer " + token;
      htmx.ajax("POST", "/portal/sign-in", { target: "#portal", swap: "outerHTML", select: "#portal", headers: headers });
    } else {
      htmx.ajax("POST", "/portal/sign-in", { target: "#portal", swap: "outerHTML", select: "#portal" });
    }
  }

  function applyTheme(el) {
    var root = document.documentElement;
    if (el.dataset.primary) { root.style.setProperty("--primary", el.dataset.primary); }
    if (el.dataset.font) { root.style.setProperty("--font", el.dataset.font); }
    root.setAttribute("data-mode", el.dataset.mode === "dark" ? "dark" : "light");
    if (el.dataset.title) { document.title = el.dataset.title; }
  }

  function remember() {
    var el = portal();
    if (!el) { return; }
    if (el.dataset.gone === "true") {
      window.history.replaceState(null, "", window.location.pathname);
      return;
    }
    var headers = el.getAttribute("hx-headers");
    if (!headers) { return; }
    var session = JSON.parse(headers)[SESSION];
    applyTheme(el);
    var fragment = "s=" + encodeURIComponent(session) + "&p=" + encodeURIComponent(el.dataset.path || "");
    window.history.replaceState(null, "", window.location.pathname + "#" + fragment);
  }

  /* The endpoint form's choice of destination: only the chosen kind's settings are shown (the
     others stay in the form, unread by the server, so switching back keeps what was typed). */
  function showKind(event) {
    var chosen = event.target;
    if (chosen.name !== "kind" || !chosen.form) { return; }
    var parts = chosen.form.querySelectorAll("[data-kind-fields]");
    for (var i = 0; i < parts.length; i++) {
      parts[i].hidden = parts[i].getAttribute("data-kind-fields") !== chosen.value;
    }
  }

  document.addEventListener("change", showKind);
  document.addEventListener("htmx:afterSettle", remember);
  document.addEventListener("DOMContentLoaded", open);
})();
