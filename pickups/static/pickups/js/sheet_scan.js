// Building a handover sheet by scanning (templates/pickups/widgets/scan.html).
// A keyboard-wedge scanner types a code and presses Enter, fast: each Enter is caught here (it never
// submits the form), the code is normalised, checked by the server against the sheet's shop and pickup
// provider, and shown as a line "added" or "refused, and why". Added codes go into the "scanned codes"
// box, which is what the form saves; without this script the clerk scans straight into that box.
// The candidate checkboxes are narrowed to the chosen shop and carrier as they change.
(function () {
  "use strict";

  function normalise(raw) {
    var code = (raw || "").replace(/[\s\u200b\ufeff\u0000-\u001f]+/g, "");
    code = code.replace(/^\][A-Za-z][0-9A-Za-z]/, "");
    return code.replace(/^\*+|\*+$/g, "").toUpperCase();
  }

  function codesIn(box) {
    return box.value.split(/[\r\n,;]+/).map(normalise).filter(Boolean);
  }

  function line(log, code, text, outcome, badge) {
    var item = document.createElement("li");
    item.className = "scan-line scan-" + outcome;
    item.dataset.outcome = outcome;
    var tag = document.createElement("code");
    tag.textContent = code;
    var mark = document.createElement("span");
    mark.className = "pc-badge " + (outcome === "added" ? "added" : outcome === "checking" ? "notice" : "refused");
    mark.textContent = badge;
    item.appendChild(tag);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(mark);
    item.appendChild(document.createTextNode(" " + text));
    log.insertBefore(item, log.firstChild);
    return item;
  }

  function update(item, result, input) {
    var badge = item.querySelector(".pc-badge");
    item.className = "scan-line scan-" + result.outcome;
    item.dataset.outcome = result.outcome;
    var skipped = result.outcome === "duplicate";
    badge.className = "pc-badge " + (result.added ? "added" : skipped ? "notice" : "refused");
    badge.textContent = result.added ? input.dataset.added : skipped ? input.dataset.skipped : input.dataset.refused;
    item.lastChild.textContent = " " + result.message;
  }

  function filterCandidates(form) {
    var shop = form.querySelector("#id_shop");
    var carrier = form.querySelector("#id_carrier");
    var boxes = form.querySelectorAll("#id_bags input[type=checkbox], #id_parcels input[type=checkbox]");
    boxes.forEach(function (box) {
      var fits = (!shop.value || box.dataset.shop === shop.value) &&
        (!carrier.value || !box.dataset.carrier || box.dataset.carrier === carrier.value);
      var label = box.closest("label") || box;
      var row = label.parentElement.id ? label : label.parentElement;
      row.hidden = !fits;
      if (!fits) { box.checked = false; }
    });
  }

  function setUp(input) {
    var form = input.form;
    var box = form.querySelector("#id_scanned_codes");
    var log = document.getElementById("scan-log");
    var shop = form.querySelector("#id_shop");
    var carrier = form.querySelector("#id_carrier");
    var pending = {};
    input.hidden = false;

    function tick(result) {
      var list = result.kind === "bag" ? "#id_bags" : "#id_parcels";
      var option = form.querySelector(list + " input[value='" + result.pk + "']");
      if (option) { option.checked = true; }
    }

    function accept(code) {
      if (codesIn(box).indexOf(code) === -1) {
        box.value = (box.value.replace(/\s+$/, "") + "\n" + code).replace(/^\n/, "") + "\n";
      }
    }

    function check(code) {
      var item = line(log, code, input.dataset.checking, "checking", "…");
      var url = input.dataset.checkUrl + "?" + new URLSearchParams({
        shop: shop.value, carrier: carrier.value, code: code,
        scanned: codesIn(box).concat(Object.keys(pending)).join(",")
      });
      pending[code] = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (result) {
          update(item, result, input);
          if (result.added) { accept(result.code); tick(result); }
        })
        .catch(function () {
          accept(code);
          item.lastChild.textContent = " " + input.dataset.offline;
        })
        .finally(function () { delete pending[code]; });
    }

    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault(); // a scanner's Enter adds the code; it never submits the sheet
      var code = normalise(input.value);
      input.value = "";
      if (code) { check(code); }
    });
    form.addEventListener("submit", function (event) {
      if (Object.keys(pending).length) { event.preventDefault(); setTimeout(function () { form.requestSubmit(); }, 150); }
    });
    shop.addEventListener("change", function () { filterCandidates(form); });
    carrier.addEventListener("change", function () { filterCandidates(form); });
    filterCandidates(form);
    input.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("input[data-check-url]");
    if (input) { setUp(input); }
  });
})();
