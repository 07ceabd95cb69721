// The search results map: one numbered marker per result (clustered when close), beside the list
// on a wide screen and behind a "Map" button on a phone; a marker opens its card in the list.
// Progressive enhancement only: without this file (or without JavaScript) the list is the page.
// The data comes from the <script type="application/json" id="results-map-data"> block.
(function () {
  "use strict";
  var WIDE = "(min-width: 992px)";

  function readData() {
    var block = document.getElementById("results-map-data");
    if (!block) { return null; }
    try { return JSON.parse(block.textContent); } catch (e) { return null; }
  }

  function openCard(id) {
    var card = document.getElementById(id);
    if (!card) { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".result-highlight"), function (el) {
      el.classList.remove("result-highlight");
    });
    card.classList.add("result-highlight");
    card.scrollIntoView({ behavior: "smooth", block: "center" });
    card.focus({ preventScroll: true });
  }

  function numberIcon(number) {
    return L.divIcon({
      className: "result-marker", html: "<span>" + number + "</span>", iconSize: [30, 30], iconAnchor: [15, 15]
    });
  }

  function clusterIcon(cluster) {
    var count = cluster.getChildCount();
    return L.divIcon({
      className: "marker-cluster results-cluster", iconSize: [38, 38],
      html: "<span>" + count + '</span><span class="visually-hidden"> results here: zoom in</span>'
    });
  }

  function buildMap(el, data) {
    var map = L.map(el, { scrollWheelZoom: false });
    L.tileLayer(data.tiles, { maxZoom: 18, attribution: data.attribution }).addTo(map);
    var group = typeof L.markerClusterGroup === "function"
      ? L.markerClusterGroup({ iconCreateFunction: clusterIcon, showCoverageOnHover: false, maxClusterRadius: 40 })
      : L.layerGroup();
    var points = data.markers.map(function (m) {
      var marker = L.marker([m.lat, m.lon], {
        icon: numberIcon(m.number), title: m.number + ". " + m.name + ", " + m.distance + " away",
        keyboard: true, riseOnHover: true
      });
      marker.on("click", function () { openCard(m.card); });
      group.addLayer(marker);
      return [m.lat, m.lon];
    });
    group.addTo(map);
    el.dataset.markerCount = String(points.length);
    if (points.length === 1) { map.setView(points[0], 13); } else { map.fitBounds(points, { padding: [30, 30] }); }
    return map;
  }

  window.addEventListener("load", function () {
    var data = readData();
    var holder = document.querySelector(".results-and-map");
    if (!data || !data.markers || !data.markers.length || !holder || typeof L === "undefined") { return; }
    var el = document.createElement("div");
    el.id = "results-map";
    el.className = "results-map";
    el.setAttribute("role", "region");
    el.setAttribute("aria-label", "Map of these results");
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "btn btn-outline-primary btn-sm map-toggle";
    toggle.setAttribute("aria-controls", el.id);
    toggle.setAttribute("aria-expanded", "false");
    toggle.textContent = "Map";
    holder.classList.add("has-map");
    holder.appendChild(el);
    holder.parentNode.insertBefore(toggle, holder);

    var map = null;
    var wide = window.matchMedia(WIDE);
    function show() {
      if (!map) { map = buildMap(el, data); } else { map.invalidateSize(); }
    }
    function layout() {
      var open = wide.matches || toggle.getAttribute("aria-expanded") === "true";
      el.hidden = !open;
      if (open) { show(); }
    }
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Hide map" : "Map";
      layout();
    });
    if (wide.addEventListener) { wide.addEventListener("change", layout); }
    layout();
  });
})();
