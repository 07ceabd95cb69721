// The location editor's map: shows the saved position and lets the practitioner drag the
// marker (or click the map) to correct it; the latitude and longitude fields follow.
// Progressive enhancement only: the fields work without this file.
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var el = document.getElementById("location-map");
    var latInput = document.getElementById("latitude");
    var lonInput = document.getElementById("longitude");
    if (!el || !latInput || !lonInput || typeof L === "undefined") { return; }
    var start = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
    if (isNaN(start[0]) || isNaN(start[1])) { return; }
    el.classList.remove("d-none");
    var map = L.map(el).setView(start, 15);
    L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"
    }).addTo(map);
    var marker = L.marker(start, { draggable: true, keyboard: true, title: "Practice location" }).addTo(map);
    function setFields(latlng) {
      latInput.value = latlng.lat.toFixed(6);
      lonInput.value = latlng.lng.toFixed(6);
    }
    marker.on("dragend", function () { setFields(marker.getLatLng()); });
    map.on("click", function (event) { marker.setLatLng(event.latlng); setFields(event.latlng); });
    function follow() {
      var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
      if (!isNaN(lat) && !isNaN(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
        marker.setLatLng([lat, lon]);
        map.panTo([lat, lon]);
      }
    }
    latInput.addEventListener("change", follow);
    lonInput.addEventListener("change", follow);
  });
})();
