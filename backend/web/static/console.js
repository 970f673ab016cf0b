/* The console's small scripts: the map of the filtered queue (clusters, a box drawn with Shift to
   filter), keyboard shortcuts, and the reports that arrived since the page was opened. Every page
   reads without them. */
(function () {
  "use strict";

  function element(tag, text, attributes) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    return node;
  }

  function withoutCursor() {
    var params = new URLSearchParams(window.location.search);
    params.delete("cursor");
    return params;
  }

  // The map: our own outlines and roads, a background only if MAP_TILE_URL says so.
  var mapBox = document.getElementById("carte");
  if (mapBox && window.L && window.fetch) {
    mapBox.textContent = "";
    var map = L.map(mapBox, { attributionControl: Boolean(mapBox.dataset.tiles), boxZoom: true, maxZoom: 19 }).setView([48.915, 2.48], 11);
    if (mapBox.dataset.tiles) {
      L.tileLayer(mapBox.dataset.tiles, { maxZoom: 19, attribution: mapBox.dataset.attribution || "" }).addTo(map);
    }
    fetch(mapBox.dataset.background).then(function (r) { return r.ok ? r.json() : null; }).then(function (collection) {
      if (!collection) return;
      L.geoJSON(collection, {
        interactive: false,
        style: function (feature) {
          var road = feature.geometry && feature.geometry.type.indexOf("Line") >= 0;
          return road ? { color: "#6b4f00", weight: 2 } : { color: "#4a5560", weight: 1, fill: false };
        }
      }).addTo(map);
    }).catch(function () {});
    var clusters = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
    fetch(mapBox.dataset.points, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer) return;
        answer.points.forEach(function (point) {
          var reference = point[2], status = point[3], label = answer.labels[status] || status;
          var marker = L.marker([point[1], point[0]], {
            icon: L.divIcon({ className: "marker-status status-" + status, iconSize: [14, 14] }),
            title: reference + " — " + label,
            alt: reference
          });
          var popup = element("div");
          popup.appendChild(element("a", reference, { href: answer.report_url + reference }));
          popup.appendChild(element("div", label));
          marker.bindPopup(popup);
          clusters.addLayer(marker);
        });
        map.addLayer(clusters);
        mapBox.dataset.loaded = String(answer.points.length);
        if (answer.points.length) map.fitBounds(clusters.getBounds(), { maxZoom: 16, padding: [20, 20] });
      }).catch(function () {});
    // Shift + drag draws a box (Leaflet's box zoom): the queue keeps what is inside.
    map.on("boxzoomend", function (event) {
      var box = event.boxZoomBounds;
      var params = withoutCursor();
      params.set("bbox", [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (n) { return n.toFixed(5); }).join(","));
      window.location.search = params.toString();
    });
  }

  // Keyboard: j/k move in the queue, o opens, a acknowledges (a report's page), ? shows the list.
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-href]"));
  var current = -1;
  function choose(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row) { row.classList.remove("current"); });
    rows[current].classList.add("current");
    rows[current].querySelector("a").focus();
  }
  var help = document.getElementById("raccourcis");
  var helpButton = document.getElementById("aide-clavier");
  function toggleHelp() {
    if (!help) return;
    help.hidden = !help.hidden;
    if (helpButton) helpButton.setAttribute("aria-expanded", String(!help.hidden));
  }
  if (helpButton) {
    helpButton.hidden = false;
    helpButton.addEventListener("click", toggleHelp);
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (event.key === "j") { choose(current + 1); event.preventDefault(); }
    else if (event.key === "k") { choose(current - 1); event.preventDefault(); }
    else if (event.key === "o" && current >= 0) { window.location.href = rows[current].dataset.href; }
    else if (event.key === "?") { toggleHelp(); }
    else if (event.key === "a") {
      var form = document.getElementById("changer-statut");
      var choice = form && form.querySelector('option[value="acknowledged"]');
      if (choice) {
        form.querySelector("select").value = "acknowledged";
        form.submit();
      }
    }
  });

  // New reports under the same filters since the page was opened, asked every minute.
  var news = document.getElementById("nouveaux");
  if (news && window.fetch) {
    var every = Number(news.dataset.every || 60) * 1000;
    window.setInterval(function () {
      var params = withoutCursor();
      params.set("received_from", news.dataset.since);
      fetch(news.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || !body["new"]) return;
          news.textContent = body["new"] + (body["new"] > 1 ? " nouveaux signalements" : " nouveau signalement") + " depuis l'ouverture de la page. ";
          news.appendChild(element("a", "Recharger la file", { href: window.location.pathname + window.location.search }));
          news.hidden = false;
        }).catch(function () {});
    }, every);
  }
}());
