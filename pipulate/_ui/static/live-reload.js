// Live reload (pipulate serve --live): the server restarts when a .py file changes, which closes
// this socket; once the new server answers, the page reloads itself.
(function () {
  "use strict";
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  function waitForServerThenReload() {
    fetch("/", { cache: "no-store" }).then(
      function (response) { if (response.ok) location.reload(); else setTimeout(waitForServerThenReload, 250); },
      function () { setTimeout(waitForServerThenReload, 250); }
    );
  }
  function connect() {
    var socket = new WebSocket(scheme + location.host + "/live-reload");
    socket.onopen = function () { document.documentElement.dataset.liveReload = "connected"; };
    socket.onclose = function () { setTimeout(waitForServerThenReload, 250); };
  }
  connect();
})();
