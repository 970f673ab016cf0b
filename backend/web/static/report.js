// The report form, enhanced: a map to place the point (Leaflet, over our own commune outlines and
// departmental roads), the phone's position, the similar reports nearby with a "me too", and the
// upload with a progress bar that keeps the form (and offers to retry) when the network fails.
// Without this script the form works as it is: coordinates typed, or a commune picked.
(function () {
  "use strict";
  var form = document.querySelector("form.stacked");
  if (!form) return;
  var latInput = document.getElementById("lat");
  var lonInput = document.getElementById("lon");
  var accuracyInput = form.querySelector("input[name=accuracy_m]");
  var status = document.getElementById("position-etat");
  var similar = document.getElementById("similaires");
  var mapBox = document.getElementById("carte");
  var marker = null;
  var map = null;

  function deviceId() {
    var id = null;
    try { id = window.localStorage.getItem("signal93-appareil"); } catch (e) { /* private mode */ }
    if (!id) {
      id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() :
        "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
          return (c ^ (Math.random() * 16) >> c / 4).toString(16);
        });
      try { window.localStorage.setItem("signal93-appareil", id); } catch (e) { /* ignored */ }
    }
    return id;
  }

  function frenchNumber(value) { return String(value).replace(".", ","); }

  function place(lat, lon, accuracy) {
    latInput.value = frenchNumber(lat.toFixed(6));
    lonInput.value = frenchNumber(lon.toFixed(6));
    accuracyInput.value = accuracy ? Math.round(accuracy) : "";
    if (map) {
      if (marker) { marker.setLatLng([lat, lon]); } else {
        marker = L.marker([lat, lon], { draggable: true, keyboard: true, title: "Lieu du signalement", alt: "Lieu du signalement" }).addTo(map);
        marker.on("dragend", function () {
          var at = marker.getLatLng();
          place(at.lat, at.lng, null);
        });
      }
    }
    status.textContent = "Point placé : " + frenchNumber(lat.toFixed(5)) + ", " + frenchNumber(lon.toFixed(5)) + ".";
    findSimilar(lat, lon);
  }

  function findSimilar(lat, lon) {
    if (!similar || !window.fetch) return;
    var d = 0.0015;
    var url = "/api/v1/reports?limit=5&status=open,acknowledged,in_progress&category=" +
      encodeURIComponent(mapBox.dataset.category) + "&bbox=" + [lon - d, lat - d, lon + d, lat + d].join(",");
    fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        similar.textContent = "";
        if (!page || !page.items.length) return;
        var title = document.createElement("h3");
        title.textContent = "Déjà signalé tout près ?";
        var hint = document.createElement("p");
        hint.className = "hint";
        hint.textContent = "Si c'est le même problème, dites « moi aussi » plutôt que d'envoyer un nouveau signalement.";
        var list = document.createElement("ul");
        list.className = "similar";
        page.items.forEach(function (item) {
          var li = document.createElement("li");
          var link = document.createElement("a");
          link.href = mapBox.dataset.follow.replace("REF", item.reference);
          link.textContent = item.category.name + " (" + item.reference + ")";
          var button = document.createElement("button");
          button.type = "button";
          button.className = "secondary";
          button.textContent = "Moi aussi";
          button.addEventListener("click", function () {
            button.disabled = true;
            fetch("/api/v1/reports/" + item.reference + "/supports", {
              method: "POST", headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ client_id: deviceId() })
            }).then(function (r) {
              button.textContent = r.ok ? "Merci, c'est noté" : "Impossible pour l'instant";
            }, function () { button.disabled = false; button.textContent = "Réessayer « moi aussi »"; });
          });
          li.appendChild(link);
          li.appendChild(button);
          list.appendChild(li);
        });
        similar.appendChild(title);
        similar.appendChild(hint);
        similar.appendChild(list);
      }, function () { similar.textContent = ""; });
  }

  if (mapBox && window.L) {
    mapBox.hidden = false;
    document.getElementById("carte-aide").hidden = false;
    map = L.map(mapBox, { attributionControl: Boolean(mapBox.dataset.tiles) }).setView([48.915, 2.48], 11);
    if (mapBox.dataset.tiles) {
      L.tileLayer(mapBox.dataset.tiles, { maxZoom: 19, attribution: mapBox.dataset.attribution || "" }).addTo(map);
    }
    fetch(mapBox.dataset.background).then(function (r) { return r.json(); }).then(function (collection) {
      L.geoJSON(collection, {
        style: function (feature) {
          return feature.properties.kind === "road" ?
            { color: "#b3261e", weight: 4, opacity: 0.8 } :
            { color: "#00539f", weight: 1, fillColor: "#00539f", fillOpacity: 0.04 };
        },
        onEachFeature: function (feature, layer) { layer.bindTooltip(feature.properties.name, { sticky: true }); }
      }).addTo(map);
    });
    map.on("click", function (event) { place(event.latlng.lat, event.latlng.lng, null); });
  }

  var locate = document.getElementById("ma-position");
  if (locate && "geolocation" in navigator) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = "Recherche de votre position…";
      navigator.geolocation.getCurrentPosition(function (position) {
        place(position.coords.latitude, position.coords.longitude, position.coords.accuracy);
        if (map) map.setView([position.coords.latitude, position.coords.longitude], 17);
      }, function () {
        status.textContent = "Position indisponible : placez le point sur la carte, ou choisissez la commune.";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // The upload: a progress bar, and on a network failure the form stays as typed, with a retry
  // (the same idempotency key: a retry never makes a second report).
  var box = document.getElementById("envoi");
  var bar = document.getElementById("envoi-progression");
  var state = document.getElementById("envoi-etat");
  var retry = document.getElementById("reessayer");
  var submit = document.getElementById("envoyer");
  if (!window.FormData || !window.XMLHttpRequest || !box) return;

  function send() {
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round(100 * event.loaded / event.total);
    });
    request.addEventListener("load", function () {
      if (request.status >= 500) { return failed(); }
      // The server's page (the answer, or the form with its errors), as a plain POST would show it.
      document.open();
      document.write(request.responseText);
      document.close();
      window.scrollTo(0, 0);
    });
    request.addEventListener("error", failed);
    request.addEventListener("timeout", failed);
    request.timeout = 10 * 60 * 1000;
    box.hidden = false;
    retry.hidden = true;
    submit.disabled = true;
    bar.value = 0;
    state.textContent = "Envoi de votre signalement…";
    request.send(new FormData(form));
  }

  function failed() {
    state.textContent = "L'envoi n'a pas abouti (connexion interrompue ?). Vos informations sont conservées : réessayez.";
    retry.hidden = false;
    submit.disabled = false;
  }

  retry.addEventListener("click", send);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
})();
