// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // "Use my location" fills the hidden lat/lon fields of the search form.
  var button = document.getElementById("use-location");
  if (button && "geolocation" in navigator) {
    var status = document.getElementById("location-status");
    button.classList.remove("d-none");
    button.addEventListener("click", function () {
      status.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("lat").value = pos.coords.latitude.toFixed(5);
        document.getElementById("lon").value = pos.coords.longitude.toFixed(5);
        var near = document.getElementById("near");
        if (near) { near.value = ""; near.placeholder = "Your current location"; }
        status.textContent = "Using your current location.";
      }, function () {
        status.textContent = "Your location is not available; please type a ZIP code or town.";
      });
    });
  }

  // A place typed after "Use my location" replaces the coordinates (they would win otherwise).
  var nearInput = document.getElementById("near");
  if (nearInput) {
    nearInput.addEventListener("input", function () {
      ["lat", "lon"].forEach(function (id) {
        var hidden = document.getElementById(id);
        if (hidden) { hidden.value = ""; }
      });
    });
  }

  // The search page's filters: one "Filters" control on a phone, an open sidebar on a wide screen.
  var filters = document.querySelector(".filters-column details.filters");
  if (filters && window.matchMedia) {
    var wide = window.matchMedia("(min-width: 992px)");
    var openOnWide = function () { if (wide.matches) { filters.open = true; } };
    openOnWide();
    if (wide.addEventListener) { wide.addEventListener("change", openOnWide); }
  }

  // A map of the practice locations on a profile, when Leaflet loaded.
  window.addEventListener("load", function () {
    var map = document.getElementById("map");
    if (!map || typeof L === "undefined") { return; }
    var points = Array.prototype.map.call(document.querySelectorAll("[data-lat][data-lon]"), function (el) {
      return [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
    });
    if (!points.length) { return; }
    map.classList.remove("d-none");
    var m = L.map(map).setView(points[0], 11);
    L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 18, attribution: "&copy; OpenStreetMap contributors"
    }).addTo(m);
    points.forEach(function (p) { L.marker(p).addTo(m); });
    if (points.length > 1) { m.fitBounds(points, { padding: [20, 20] }); }
  });
})();
