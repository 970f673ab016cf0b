// "Utiliser ma position": progressive enhancement of the zone page's form. Without this script
// (or without the permission) the sighting is placed at the zone, which is what the server does
// with empty fields.
(function () {
  "use strict";
  var button = document.getElementById("use-position");
  if (!button || !("geolocation" in navigator)) return;
  var status = document.getElementById("position-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = "Recherche de votre position…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        document.getElementById("lon").value = position.coords.longitude.toFixed(6);
        document.getElementById("lat").value = position.coords.latitude.toFixed(6);
        document.getElementById("accuracy_m").value = Math.round(position.coords.accuracy);
        status.textContent = "Position enregistrée (à " + Math.round(position.coords.accuracy) + " m près).";
      },
      function () {
        status.textContent = "Position indisponible : la zone sera indiquée à la place.";
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
