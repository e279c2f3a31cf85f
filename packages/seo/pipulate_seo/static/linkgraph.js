// The site's link structure on a canvas: d3-force lays it out (served from this package, no CDN),
// this file draws it. Drag to pan, scroll to zoom, hover a dot to see its page; dot size is the
// page's internal PageRank, colour its depth. Text from crawled pages is only ever drawn on the
// canvas or set as textContent, never parsed as HTML.
(function () {
  "use strict";
  var COLORS = ["#2f6d5a", "#3b82c4", "#8e5cc2", "#c2853b", "#c23b5c", "#6b7280"];

  function start(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var info = document.getElementById(canvas.id.replace("graph-canvas-", "graph-info-"));
    fetch(canvas.dataset.src, { credentials: "same-origin", headers: { "X-Pipulate-Profile": profileId() } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) { draw(canvas, info, data); })
      .catch(function () { if (info) info.textContent = "The graph could not be loaded."; });
  }

  function profileId() {
    var form = document.getElementById("profile-switcher");
    return form ? form.dataset.profileId || "" : "";
  }

  function draw(canvas, info, data) {
    var ctx = canvas.getContext("2d");
    var nodes = data.nodes.map(function (n, i) { return { i: i, url: n.url, depth: n.depth, status: n.status, rank: n.rank, inl: n.in, out: n.out }; });
    var links = data.edges.map(function (e) { return { source: e[0], target: e[1] }; });
    var maxRank = nodes.reduce(function (m, n) { return Math.max(m, n.rank); }, 0) || 1;
    var view = { x: canvas.width / 2, y: canvas.height / 2, k: 1 };
    var hover = null;
    if (info) {
      info.textContent = nodes.length + " pages" + (data.total > nodes.length ? " (the " + nodes.length + " with the highest PageRank of " + data.total + ")" : "") + ", " + links.length + " links.";
    }
    var sim = d3.forceSimulation(nodes)
      .force("link", d3.forceLink(links).distance(30).strength(0.2))
      .force("charge", d3.forceManyBody().strength(-40).distanceMax(400))
      .force("center", d3.forceCenter(0, 0))
      .alphaDecay(nodes.length > 1000 ? 0.05 : 0.03)
      .on("tick", render);

    function radius(n) { return 2 + 8 * Math.sqrt(n.rank / maxRank); }

    function render() {
      ctx.save();
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.translate(view.x, view.y);
      ctx.scale(view.k, view.k);
      ctx.strokeStyle = "rgba(120,120,120,0.25)";
      ctx.lineWidth = 0.5 / view.k;
      ctx.beginPath();
      links.forEach(function (l) { ctx.moveTo(l.source.x, l.source.y); ctx.lineTo(l.target.x, l.target.y); });
      ctx.stroke();
      nodes.forEach(function (n) {
        ctx.beginPath();
        ctx.fillStyle = n.status !== 200 ? "#d14343" : COLORS[Math.min(n.depth == null ? 5 : n.depth, COLORS.length - 1)];
        ctx.arc(n.x, n.y, radius(n) / Math.sqrt(view.k), 0, 2 * Math.PI);
        ctx.fill();
      });
      if (hover) {
        ctx.beginPath();
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 1.5 / view.k;
        ctx.arc(hover.x, hover.y, radius(hover) / Math.sqrt(view.k) + 2 / view.k, 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.restore();
    }

    function toWorld(event) {
      var box = canvas.getBoundingClientRect();
      var sx = (event.clientX - box.left) * (canvas.width / box.width);
      var sy = (event.clientY - box.top) * (canvas.height / box.height);
      return { x: (sx - view.x) / view.k, y: (sy - view.y) / view.k };
    }

    var drag = null;
    canvas.addEventListener("mousedown", function (e) { drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y }; });
    window.addEventListener("mouseup", function () { drag = null; });
    canvas.addEventListener("mousemove", function (e) {
      if (drag) {
        var box = canvas.getBoundingClientRect();
        view.x = drag.vx + (e.clientX - drag.x) * (canvas.width / box.width);
        view.y = drag.vy + (e.clientY - drag.y) * (canvas.height / box.height);
        render();
        return;
      }
      var p = toWorld(e);
      var found = sim.find(p.x, p.y, 12 / view.k);
      if (found !== hover) {
        hover = found || null;
        if (info && hover) {
          info.textContent = hover.url + " — depth " + (hover.depth == null ? "–" : hover.depth) + ", status " + hover.status + ", " + hover.inl + " inlinks, " + hover.out + " outlinks, PageRank " + hover.rank.toExponential(2);
        }
        render();
      }
    });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      var p = toWorld(e);
      var k = Math.min(20, Math.max(0.05, view.k * (e.deltaY < 0 ? 1.2 : 1 / 1.2)));
      view.x -= p.x * (k - view.k);
      view.y -= p.y * (k - view.k);
      view.k = k;
      render();
    }, { passive: false });
  }

  function scan() {
    document.querySelectorAll("canvas.link-graph").forEach(start);
  }
  if (!window.__pipulateLinkGraph) {
    window.__pipulateLinkGraph = true;
    document.addEventListener("htmx:afterSettle", scan);
  }
  scan();
})();
