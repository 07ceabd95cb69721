// The credential queue's "Verify" forms: progressive enhancement only (the server refuses the same cases).
// "Verify" stays disabled until the chosen way of checking has what it needs: the register's reference,
// the evidence file opened, or whom the body's contact was and when.
(function () {
  "use strict";

  function value(form, name) {
    var input = form.querySelector('[name="' + name + '"]');
    return input ? input.value.trim() : "";
  }

  function missing(form) {
    var chosen = form.querySelector('input[name="method"]:checked');
    if (!chosen) { return "Choose how you checked it."; }
    if (chosen.value === "register checked" && !value(form, "reference")) {
      return "Give the register's reference or URL.";
    }
    if (chosen.value === "certificate inspected") {
      if (form.dataset.hasEvidence !== "true") { return "There is no certificate file to inspect."; }
      if (form.dataset.evidenceOpened !== "true") { return "Open the evidence file first."; }
    }
    if (chosen.value === "body contacted" && (!value(form, "contact") || !value(form, "contacted_on"))) {
      return "Say whom you contacted and when.";
    }
    return "";
  }

  function update(form) {
    var chosen = form.querySelector('input[name="method"]:checked');
    form.querySelectorAll(".method-fields").forEach(function (group) {
      group.hidden = !chosen || group.dataset.method !== chosen.value;
    });
    var problem = missing(form);
    form.querySelector(".verify-button").disabled = problem !== "";
    form.querySelector(".verify-hint").textContent = problem;
  }

  document.querySelectorAll("form.verify-form").forEach(function (form) {
    form.addEventListener("input", function () { update(form); });
    form.addEventListener("change", function () { update(form); });
    update(form);
  });

  // Opening the evidence (in a new tab) is recorded by the server; the form may then be sent.
  document.querySelectorAll("a.evidence-link").forEach(function (link) {
    link.addEventListener("click", function () {
      var form = document.getElementById(link.dataset.form);
      if (!form) { return; }
      form.dataset.evidenceOpened = "true";
      var note = document.getElementById("opened-" + form.id.replace("verify-", ""));
      if (note) { note.classList.remove("d-none"); }
      update(form);
    });
  });
})();
